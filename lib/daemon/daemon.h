/*
 * The skeleton every daemon of the suite runs on: options, logging, the
 * configuration, sockets from systemd or the runtime directory, one
 * sd-event loop with signals as events (TERM/INT quit, HUP reload), the
 * watchdog kept by the loop itself, and READY/STATUS/STOPPING to systemd.
 */
#ifndef ALPR_DAEMON_H
#define ALPR_DAEMON_H

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "conf/conf.h"

#define EXIT_CONFIG 78	/* EX_CONFIG: systemd does not restart on it */

struct daemon {
	const char *name;		/* "alpr-matchd" */
	sd_event *event;
	struct alpr_conf *conf;
	const char *conf_path;
	const char *camera;		/* alpr-captured's [camera.NAME] */
	const char *runtime_dir;	/* sockets */
	bool foreground;
	void *userdata;			/* the daemon's own state */
	const struct daemon_ops *ops;
};

struct daemon_ops {
	const char *name;
	const char *summary;		/* one line for --help */
	bool camera;			/* takes -c NAME (one instance per camera) */
	/* After the config is loaded and the loop exists; < 0 exits. */
	int (*start)(struct daemon *d);
	/* d->conf is already the new config; old is still valid here. */
	int (*reload)(struct daemon *d, const struct alpr_conf *old);
	void (*stop)(struct daemon *d);
};

int daemon_main(const struct daemon_ops *ops, int argc, char **argv);

/* runtime_dir/name, malloc'd. */
char *daemon_socket_path(const struct daemon *d, const char *name);
/*
 * The listening socket called name ("match.sock"): the one systemd passed
 * with FileDescriptorName=name, else a new one bound in the runtime
 * directory (mode 0660).  Returns the fd or -errno.
 */
int daemon_listen(struct daemon *d, const char *name);
/* STATUS= line for systemctl status (also logged at debug level). */
void daemon_status(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
