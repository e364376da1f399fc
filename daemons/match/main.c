/*
 * alpr-matchd: owns the database and the hot lists; matches every read,
 * stores reads and hits, and sends hits to alpr-alertd.  Serves
 * match.sock (reads from alpr-ocrd) and control.sock (alprctl, alertd).
 * Trusts its peers only as far as their role and SO_PEERCRED allow.
 *
 * Foundation stage: the sockets and the skeleton; matching and storage
 * come with their own modules.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"

struct matchd {
	struct ipc_server *reads, *control;
	struct ipc_client *alert;
};

static const struct ipc_handler read_table[] = { { 0 } };
static const struct ipc_handler control_table[] = { { 0 } };
static const struct ipc_handler alert_table[] = { { 0 } };
static const struct ipc_ops read_ops = { .table = read_table };
static const struct ipc_ops control_ops = { .table = control_table };
static const struct ipc_ops alert_ops = { .table = alert_table };

static int
matchd_start(struct daemon *d)
{
	struct matchd *m;
	char *path;
	int fd, r;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	d->userdata = m;
	if ((fd = daemon_listen(d, "match.sock")) < 0)
		fatal_r(fd, "match.sock");
	if ((r = ipc_server_new(d->event, fd, IPC_ROLE_MATCH, d->name, IPC_ROLE_OCR | IPC_ROLE_TEST,
	    &read_ops, m, &m->reads)) < 0)
		return r;
	if ((fd = daemon_listen(d, "control.sock")) < 0)
		fatal_r(fd, "control.sock");
	if ((r = ipc_server_new(d->event, fd, IPC_ROLE_MATCH, d->name, IPC_ROLE_CTL | IPC_ROLE_ALERT,
	    &control_ops, m, &m->control)) < 0)
		return r;
	if ((path = daemon_socket_path(d, "alert.sock")) == NULL)
		return -ENOMEM;
	r = ipc_client_new(d->event, path, IPC_ROLE_MATCH, d->name, &alert_ops, m, &m->alert);
	free(path);
	if (r < 0)
		return r;
	daemon_status(d, "serving reads and control requests");
	return 0;
}

static void
matchd_stop(struct daemon *d)
{
	struct matchd *m = d->userdata;

	ipc_client_free(m->alert);
	ipc_server_free(m->control);
	ipc_server_free(m->reads);
	free(m);
}

static const struct daemon_ops ops = {
	.name = "alpr-matchd",
	.summary = "Match plate reads against hot lists and store them.",
	.start = matchd_start,
	.stop = matchd_stop,
};

int
main(int argc, char **argv)
{
	return daemon_main(&ops, argc, argv);
}
