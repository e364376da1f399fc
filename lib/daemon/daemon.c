/*
 * Daemon skeleton: see daemon.h.  Runs in every daemon process, before and
 * around its own code.  Nothing here knows what a daemon does.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "base/log.h"
#include "base/time.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"

static void
usage(const struct daemon_ops *ops, FILE *f)
{
	fprintf(f, "usage: %s [-dnv] [-f file] [--runtime-dir dir]%s\n"
	    "%s\n\n"
	    "  -f, --config FILE     configuration file (default %s)\n"
	    "  -n, --check-config    check the configuration, print \"configuration OK\", exit\n"
	    "  -d, --foreground      log to the terminal, debug lines included\n"
	    "  -v, --verbose         debug lines\n"
	    "      --runtime-dir DIR sockets go here (default: the config's RuntimeDirectory)\n"
	    "%s"
	    "  -V, --version         print the version\n"
	    "  -h, --help            this text\n",
	    ops->name, ops->camera ? " -c camera" : "", ops->summary, CONF_DEFAULT_PATH,
	    ops->camera ? "  -c, --camera NAME     the [camera.NAME] section to serve\n" : "");
}

static int
on_quit(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	log_info("signal %d, stopping", (int)si->ssi_signo);
	(void)sd_notify(0, "STOPPING=1");
	return sd_event_exit(d->event, 0);
}

/* Reload builds a new config aside and swaps only if it is valid. */
static int
on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct alpr_conf *newc = NULL, *old;
	const char *blocker;
	char *err = NULL;
	uint64_t now;
	int r;

	(void)sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now);
	if ((r = conf_load(d->conf_path, &newc, &err)) < 0) {
		log_warnx("reload of %s failed, keeping the running configuration: %s",
		    d->conf_path, err != NULL ? err : strerror(-r));
		free(err);
		goto out;
	}
	if ((blocker = conf_reload_blocker(d->conf, newc)) != NULL) {
		log_warnx("reload: %s changed and needs a restart, keeping the running configuration",
		    blocker);
		conf_free(newc);
		goto out;
	}
	old = d->conf;
	d->conf = newc;
	if (!d->foreground)
		log_set_level(newc->general.log_level);
	if (d->ops->reload != NULL && (r = d->ops->reload(d, old)) < 0) {
		log_warn_r(r, "reload, keeping the running configuration");
		d->conf = old;
		conf_free(newc);
		goto out;
	}
	conf_free(old);
	log_info("configuration reloaded");
out:
	(void)sd_notify(0, "READY=1");
	return 0;
}

char *
daemon_socket_path(const struct daemon *d, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", d->runtime_dir, name) < 0)
		return NULL;
	return p;
}

int
daemon_listen(struct daemon *d, const char *name)
{
	char **names = NULL, *path;
	int n, i, fd = -1;

	n = sd_listen_fds_with_names(0, &names);
	for (i = 0; i < n; i++) {
		if (fd < 0 && names != NULL && strcmp(names[i], name) == 0 &&
		    sd_is_socket_unix(SD_LISTEN_FDS_START + i, SOCK_SEQPACKET, 1, NULL, 0) > 0)
			fd = SD_LISTEN_FDS_START + i;
	}
	if (names != NULL) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	if (fd >= 0) {
		log_debug("socket %s from systemd", name);
		return fd;
	}
	if ((path = daemon_socket_path(d, name)) == NULL)
		return -ENOMEM;
	fd = ipc_listen(path, 64);
	if (fd >= 0)
		(void)chmod(path, 0660);
	free(path);
	return fd;
}

void
daemon_status(struct daemon *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("status: %s", buf);
	(void)sd_notifyf(0, "STATUS=%s", buf);
}

int
daemon_main(const struct daemon_ops *ops, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "runtime-dir", required_argument, NULL, 'R' },
		{ "camera", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon d = { .name = ops->name, .ops = ops, .conf_path = CONF_DEFAULT_PATH };
	bool check = false, verbose = false;
	const char *runtime_dir = NULL;
	char *err = NULL;
	sigset_t ss;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "f:ndvc:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			d.conf_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			d.foreground = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'R':
			runtime_dir = optarg;
			break;
		case 'c':
			if (!ops->camera) {
				usage(ops, stderr);
				return 2;
			}
			d.camera = optarg;
			break;
		case 'V':
			printf("%s %s\n", ops->name, PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(ops, stdout);
			return 0;
		default:
			usage(ops, stderr);
			return 2;
		}
	}
	if (optind != argc || (ops->camera && d.camera == NULL)) {
		usage(ops, stderr);
		return 2;
	}
	log_init(ops->name, d.foreground || verbose);
	log_set_camera(d.camera);

	if ((r = conf_load(d.conf_path, &d.conf, &err)) < 0) {
		if (err != NULL)
			fprintf(stderr, "%s", err);
		else
			fprintf(stderr, "%s: %s\n", d.conf_path, strerror(-r));
		free(err);
		return EXIT_CONFIG;
	}
	if (d.camera != NULL && conf_camera(d.conf, d.camera) == NULL) {
		fprintf(stderr, "%s: no [camera.%s] section\n", d.conf_path, d.camera);
		conf_free(d.conf);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("configuration OK\n");
		conf_free(d.conf);
		return 0;
	}
	if (!d.foreground && !verbose)
		log_set_level(d.conf->general.log_level);

	/* Sockets: --runtime-dir, else systemd's RuntimeDirectory=, else the config. */
	d.runtime_dir = runtime_dir != NULL ? runtime_dir : d.conf->general.runtime_dir;
	if (mkdir(d.runtime_dir, 0750) < 0 && errno != EEXIST)
		fatal("runtime directory %s", d.runtime_dir);

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = sd_event_default(&d.event)) < 0)
		fatal_r(r, "event loop");
	if ((r = sd_event_add_signal(d.event, NULL, SIGTERM, on_quit, &d)) < 0 ||
	    (r = sd_event_add_signal(d.event, NULL, SIGINT, on_quit, &d)) < 0 ||
	    (r = sd_event_add_signal(d.event, NULL, SIGHUP, on_reload, &d)) < 0)
		fatal_r(r, "signal sources");
	/* The loop itself sends WATCHDOG=1, so a stuck loop gets restarted. */
	(void)sd_event_set_watchdog(d.event, true);

	if ((r = ops->start(&d)) < 0) {
		log_warn_r(r, "start");
		sd_event_unref(d.event);
		conf_free(d.conf);
		return 1;
	}
	(void)sd_notify(0, "READY=1");
	log_info("started, version %s", PACKAGE_VERSION);
	r = sd_event_loop(d.event);
	(void)sd_notify(0, "STOPPING=1");
	if (ops->stop != NULL)
		ops->stop(&d);
	sd_event_unref(d.event);
	conf_free(d.conf);
	if (r < 0) {
		log_warn_r(r, "event loop");
		return 1;
	}
	log_info("stopped");
	return 0;
}
