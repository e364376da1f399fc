/*
 * alpr-alertd: the deputy's side.  Receives hits from alpr-matchd on
 * alert.sock (reliable), shows them on the MDC page served on loopback,
 * announces them, and records the CLETS workflow through matchd's control
 * socket.  Trusts the browser only with a session and a CSRF token.
 *
 * Foundation stage: the skeleton and alert.sock.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"

struct alertd {
	struct ipc_server *hits;
};

static const struct ipc_handler hit_table[] = { { 0 } };
static const struct ipc_ops hit_ops = { .table = hit_table };

static int
alertd_start(struct daemon *d)
{
	struct alertd *a;
	int fd, r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	d->userdata = a;
	if ((fd = daemon_listen(d, "alert.sock")) < 0)
		fatal_r(fd, "alert.sock");
	if ((r = ipc_server_new(d->event, fd, IPC_ROLE_ALERT, d->name, IPC_ROLE_MATCH | IPC_ROLE_TEST,
	    &hit_ops, a, &a->hits)) < 0)
		return r;
	daemon_status(d, "waiting for hits");
	return 0;
}

static void
alertd_stop(struct daemon *d)
{
	struct alertd *a = d->userdata;

	ipc_server_free(a->hits);
	free(a);
}

static const struct daemon_ops ops = {
	.name = "alpr-alertd",
	.summary = "Alert the deputy to hot-list hits on the MDC.",
	.start = alertd_start,
	.stop = alertd_stop,
};

int
main(int argc, char **argv)
{
	return daemon_main(&ops, argc, argv);
}
