/*
 * Logging for every program of the suite: stderr only.  Under systemd
 * (JOURNAL_STREAM names our stderr) each line goes to the journal with
 * structured fields (ALPR_DAEMON, ALPR_CAMERA, MESSAGE_ID); otherwise plain
 * text with a time stamp.  Plate text never reaches these functions:
 * callers log ids (read, hit, entry), never plates.
 */
#ifndef ALPR_LOG_H
#define ALPR_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* ident: program name; debug: print debug lines too. */
void log_init(const char *ident, bool debug);
void log_set_level(int level);
int log_get_level(void);
/* Camera the daemon serves, added to each journal entry (NULL: none). */
void log_set_camera(const char *camera);
/* Where stderr lines go (tests); fd stays owned by the caller. */
void log_set_fd(int fd);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* r is a negative errno; its text is appended. */
void log_warn_r(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An event with a stable MESSAGE_ID (32 hex digits) for journalctl filters. */
void log_event(int level, const char *msgid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vlog(int level, const char *msgid, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatal_r(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
