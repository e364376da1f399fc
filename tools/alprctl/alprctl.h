/* alprctl's commands, one file each; main.c dispatches. */
#ifndef ALPRCTL_H
#define ALPRCTL_H

#include <stdbool.h>

struct alpr_conf;

/* argv[0] is "hotlist"; conf may be NULL (defaults).  Returns the exit status. */
int alprctl_hotlist(int argc, char **argv, const struct alpr_conf *conf, const char *runtime_dir,
    bool json);

/* The session token alprctl login saved (main.c), or NULL; the caller frees it. */
char *session_load(void);

#endif
