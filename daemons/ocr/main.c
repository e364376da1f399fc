/*
 * alpr-ocrd: receives frames from alpr-captured on ocr.sock (sealed memfds),
 * finds and reads plates, tracks them across frames, and sends one read
 * per passing vehicle to alpr-matchd (reliable).  Trusts no frame bytes.
 *
 * Foundation stage: the sockets and the skeleton; the recognizer and the
 * tracker come with their own modules.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"

struct ocrd {
	struct ipc_server *frames;
	struct ipc_client *match;
};

static const struct ipc_handler frame_table[] = { { 0 } };
static const struct ipc_handler match_table[] = { { 0 } };
static const struct ipc_ops frame_ops = { .table = frame_table };
static const struct ipc_ops match_ops = { .table = match_table };

static int
ocrd_start(struct daemon *d)
{
	struct ocrd *o;
	char *path;
	int fd, r;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -ENOMEM;
	d->userdata = o;
	if ((fd = daemon_listen(d, "ocr.sock")) < 0)
		fatal_r(fd, "ocr.sock");
	if ((r = ipc_server_new(d->event, fd, IPC_ROLE_OCR, d->name,
	    IPC_ROLE_CAPTURE | IPC_ROLE_TEST, &frame_ops, o, &o->frames)) < 0)
		return r;
	if ((path = daemon_socket_path(d, "match.sock")) == NULL)
		return -ENOMEM;
	r = ipc_client_new(d->event, path, IPC_ROLE_OCR, d->name, &match_ops, o, &o->match);
	free(path);
	if (r < 0)
		return r;
	daemon_status(d, "waiting for frames");
	return 0;
}

static void
ocrd_stop(struct daemon *d)
{
	struct ocrd *o = d->userdata;

	ipc_client_free(o->match);
	ipc_server_free(o->frames);
	free(o);
}

static const struct daemon_ops ops = {
	.name = "alpr-ocrd",
	.summary = "Find and read licence plates in camera frames.",
	.start = ocrd_start,
	.stop = ocrd_stop,
};

int
main(int argc, char **argv)
{
	return daemon_main(&ops, argc, argv);
}
