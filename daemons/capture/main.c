/*
 * alpr-captured: one instance per camera (-c NAME, [camera.NAME]).  Reads
 * frames from V4L2 or a replay source, tags them with time and GPS, and
 * hands them to alpr-ocrd as sealed memfds on ocr.sock.  Trusts the
 * camera's bytes only as pixels.
 *
 * Foundation stage: the skeleton and the connection to alpr-ocrd; sources,
 * GPS and health come with their own modules.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "daemon/daemon.h"
#include "ipc/ipc.h"

struct captured {
	struct ipc_client *ocr;
};

static const struct ipc_handler ocr_table[] = { { 0 } };
static const struct ipc_ops ocr_ops = { .table = ocr_table };

static int
captured_start(struct daemon *d)
{
	struct captured *c;
	char *path;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	d->userdata = c;
	if ((path = daemon_socket_path(d, "ocr.sock")) == NULL)
		return -ENOMEM;
	r = ipc_client_new(d->event, path, IPC_ROLE_CAPTURE, d->name, &ocr_ops, c, &c->ocr);
	free(path);
	if (r < 0)
		return r;
	daemon_status(d, "camera %s: starting", d->camera);
	return 0;
}

static void
captured_stop(struct daemon *d)
{
	struct captured *c = d->userdata;

	ipc_client_free(c->ocr);
	free(c);
}

static const struct daemon_ops ops = {
	.name = "alpr-captured",
	.summary = "Capture frames from one camera for plate recognition.",
	.camera = true,
	.start = captured_start,
	.stop = captured_stop,
};

int
main(int argc, char **argv)
{
	return daemon_main(&ops, argc, argv);
}
