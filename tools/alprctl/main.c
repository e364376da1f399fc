/*
 * alprctl: the command line for everything people do with ALPR data
 * outside the alert flow.  It holds no policy: every request goes to
 * alpr-matchd's control socket, where libalpr's policy code decides.
 *
 * Foundation stage: option parsing and `alprctl status`.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "conf/conf.h"
#include "ipc/ipc.h"
#include "alprctl.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: alprctl [-f file] [--runtime-dir dir] [--json] command [args]\n"
	    "\n"
	    "commands:\n"
	    "  status        is alpr-matchd answering on its control socket\n"
	    "  hotlist ...   check, import, status, add (alprctl hotlist --help)\n"
	    "\n"
	    "  -f, --config FILE      configuration file (default %s)\n"
	    "      --runtime-dir DIR  where the daemons' sockets are\n"
	    "      --json             output for programs\n"
	    "  -V, --version          print the version\n"
	    "  -h, --help             this text\n", CONF_DEFAULT_PATH);
}

/* Connects and waits for matchd's HELLO: proof the daemon is up. */
static int
cmd_status(const char *runtime_dir, bool json)
{
	struct ipc_msg m = { .fd = -1 };
	const char *why = NULL, *name = "?";
	char path[4096];
	int fd, r, tries;

	snprintf(path, sizeof(path), "%s/control.sock", runtime_dir);
	if ((fd = ipc_connect(path)) < 0) {
		fprintf(stderr, "alprctl: %s: %s (is alpr-matchd running?)\n", path, strerror(-fd));
		return 3;
	}
	for (tries = 0; tries < 200; tries++) {
		r = ipc_recv(fd, &m, &why);
		if (r != -EAGAIN)
			break;
		usleep(10000);
	}
	if (r <= 0 || m.type != IPC_MSG_HELLO) {
		fprintf(stderr, "alprctl: %s: no answer from alpr-matchd\n", path);
		ipc_msg_clear(&m);
		return 3;
	}
	json_unpack(m.body, "{s:s}", "name", &name);
	if (json)
		printf("{\"control\":\"up\",\"daemon\":\"%s\"}\n", name);
	else
		printf("control socket %s: %s is answering\n", path, name);
	ipc_msg_clear(&m);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "runtime-dir", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = NULL, *runtime_dir = NULL;
	struct alpr_conf *conf = NULL;
	bool json = false;
	char *err = NULL;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "+f:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		case 'R':
			runtime_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'V':
			printf("alprctl %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	log_init("alprctl", false);
	if (runtime_dir == NULL) {
		if ((r = conf_load(conf_path, &conf, &err)) < 0) {
			fprintf(stderr, "%s", err != NULL ? err : strerror(-r));
			free(err);
			return 78;
		}
		runtime_dir = conf->general.runtime_dir;
	}
	if (strcmp(argv[optind], "status") == 0)
		r = cmd_status(runtime_dir, json);
	else if (strcmp(argv[optind], "hotlist") == 0)
		r = alprctl_hotlist(argc - optind, argv + optind, conf, runtime_dir, json);
	else {
		fprintf(stderr, "alprctl: unknown command \"%s\"\n", argv[optind]);
		usage(stderr);
		r = 2;
	}
	conf_free(conf);
	return r;
}
