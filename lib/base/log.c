/*
 * Logging: see log.h.  Runs in every process; trusts only its callers.
 * One line per event.  Under journald the entry carries our fields; a
 * failed journal write falls back to a "<N>"-prefixed stderr line, which
 * journald also understands.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "base/log.h"

#define LOG_LINE_MAX 2048

static const char *log_ident = "alpr";
static const char *log_camera;
static int log_level = LOG_LEVEL_INFO;
static int log_fd = STDERR_FILENO;
static bool log_journal;

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected stderr to. */
static bool
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, bool debug)
{
	const char *p;

	if (ident != NULL) {
		p = strrchr(ident, '/');
		log_ident = p != NULL ? p + 1 : ident;
	}
	log_level = debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
	log_journal = stderr_is_journal();
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

void
log_set_camera(const char *camera)
{
	log_camera = camera;
}

void
log_set_fd(int fd)
{
	log_fd = fd;
	log_journal = false;
}

static void
write_stderr(int level, const char *msg)
{
	char line[LOG_LINE_MAX + 64];
	struct timespec ts;
	struct tm tm;
	int n;

	if (log_journal) {
		n = snprintf(line, sizeof(line), "<%d>%s\n", level, msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s[%d]: %s\n", tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident, (int)getpid(), msg);
	}
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	(void)!write(log_fd, line, n);
}

void
log_vlog(int level, const char *msgid, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	int saved = errno;
	size_t n;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum > 0) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
	}
	if (log_journal && sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level,
	    "SYSLOG_IDENTIFIER=%s", log_ident, "ALPR_DAEMON=%s", log_ident,
	    "ALPR_CAMERA=%s", log_camera != NULL ? log_camera : "",
	    "MESSAGE_ID=%s", msgid != NULL ? msgid : "", NULL) >= 0) {
		errno = saved;
		return;
	}
	write_stderr(level, msg);
	errno = saved;
}

#define LOG_FN(name, level, errnum)                               \
	void name(const char *fmt, ...)                           \
	{                                                         \
		int e = (errnum);                                 \
		va_list ap;                                       \
		va_start(ap, fmt);                                \
		log_vlog((level), NULL, e, fmt, ap);              \
		va_end(ap);                                       \
	}

LOG_FN(log_warn, LOG_LEVEL_WARNING, errno)
LOG_FN(log_warnx, LOG_LEVEL_WARNING, 0)
LOG_FN(log_notice, LOG_LEVEL_NOTICE, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
log_warn_r(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_WARNING, NULL, -r, fmt, ap);
	va_end(ap);
}

void
log_event(int level, const char *msgid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(level, msgid, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERR, NULL, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERR, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatal_r(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERR, NULL, -r, fmt, ap);
	va_end(ap);
	exit(1);
}
