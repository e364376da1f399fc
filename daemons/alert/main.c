/*
 * alpr-alertd: the deputy's side.  Receives hits from alpr-matchd on
 * alert.sock (reliable) and camera health from alpr-captured, shows them on
 * the MDC page served on loopback, announces them, and records the CLETS
 * workflow through matchd's control socket.  Holds no database: logins and
 * every workflow step go through matchd, where libalpr's policy decides.
 * Trusts the browser only with a session and a CSRF token.
 *
 * A HIT is acknowledged only once it is on display and matchd has
 * recorded it as shown (hit.shown).  ACKs are cumulative, so each
 * connection keeps its HITs in arrival order and acknowledges the longest
 * finished prefix.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/time.h"
#include "daemon/daemon.h"
#include "daemons/alert/alertd.h"

#define PENDING_MAX 65536	/* HITs per connection waiting for their record */

/* HITs of one connection not yet acknowledged, in arrival order. */
struct pending_hit {
	uint64_t seq;
	int64_t hit;		/* -1: malformed, acknowledged with the others (see on_hit) */
};

struct peer {
	struct pending_hit *q;
	size_t head, len, cap;
};

const struct alpr_conf *
alertd_conf(const struct alertd *a)
{
	return a->d->conf;
}

static void
ack_done(struct ipc_conn *c, void *arg)
{
	struct alertd *a = arg;
	struct peer *p = ipc_conn_get_data(c);
	struct hit *hit;
	uint64_t seq = 0;
	bool any = false;

	while (p != NULL && p->len > 0) {
		struct pending_hit *ph = &p->q[p->head];

		if (ph->hit >= 0 && ((hit = hits_find(a->hits, ph->hit)) == NULL || !hit->recorded))
			break;
		seq = ph->seq;
		any = true;
		p->head = (p->head + 1) % p->cap;
		p->len--;
	}
	if (any && ipc_conn_ack(c, seq) < 0)
		log_warnx("acknowledging hits up to seq=%llu, ignoring", (unsigned long long)seq);
}

void
alertd_hits_recorded(struct alertd *a)
{
	ipc_server_foreach(a->sock, ack_done, a);
}

static int
peer_push(struct peer *p, uint64_t seq, int64_t hit)
{
	struct pending_hit *nq;
	size_t i, cap;

	if (p->len == p->cap) {
		if (p->cap >= PENDING_MAX)
			return -ENOBUFS;
		cap = p->cap ? p->cap * 2 : 64;
		if ((nq = calloc(cap, sizeof(*nq))) == NULL)
			return -ENOMEM;
		for (i = 0; i < p->len; i++)
			nq[i] = p->q[(p->head + i) % p->cap];
		free(p->q);
		p->q = nq;
		p->cap = cap;
		p->head = 0;
	}
	p->q[(p->head + p->len) % p->cap] = (struct pending_hit){ .seq = seq, .hit = hit };
	p->len++;
	return 0;
}

static int
on_hit(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	struct alertd *a = userdata;
	struct peer *p = ipc_conn_get_data(c);
	int64_t id;
	int r;

	if (!(m->flags & IPC_F_RELIABLE))
		return -EBADMSG;
	if ((id = hits_take(a->hits, m->body, m->fd)) < 0) {
		if (id != -EBADMSG) {
			log_warn_r(id, "taking a hit seq=%llu", (unsigned long long)m->seq);
			return (int)id;	/* unacknowledged: matchd sends it again */
		}
		/*
		 * Resending a malformed hit cannot fix it: acknowledge it in
		 * its turn, and say so (the hit stays in matchd's database).
		 */
		log_warnx("malformed HIT seq=%llu from \"%s\", acknowledging it without display",
		    (unsigned long long)m->seq, ipc_conn_peer_name(c));
		id = -1;
	}
	if ((r = peer_push(p, m->seq, id)) < 0)
		return r;
	ack_done(c, a);
	return 0;
}

static int
on_health(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	struct alertd *a = userdata;
	const char *camera, *state;
	struct health *slot = NULL;
	json_t *o;
	size_t i;

	if (json_unpack(m->body, "{s:s, s:s}", "camera", &camera, "state", &state) < 0 ||
	    strlen(camera) >= sizeof(slot->camera) || *camera == '\0')
		return -EBADMSG;
	for (i = 0; i < ALERT_CAMERAS_MAX; i++)
		if (strcmp(a->health[i].camera, camera) == 0 || a->health[i].camera[0] == '\0') {
			slot = &a->health[i];
			break;
		}
	if (slot == NULL)
		return 0;	/* more cameras than a car has: ignore the rest */
	if (slot->camera[0] == '\0' || strcmp(slot->camera, camera) != 0 ||
	    !json_equal(json_object_get(slot->body, "state"), json_object_get(m->body, "state")))
		log_info("camera \"%s\" health: %s", camera, state);
	snprintf(slot->camera, sizeof(slot->camera), "%s", camera);
	json_decref(slot->body);
	slot->body = json_incref(m->body);
	slot->received_usec = time_realtime_usec();
	if ((o = alertd_health_json(a)) != NULL) {
		http_push(a->http, "health", o);
		json_decref(o);
	}
	return 0;
}

json_t *
alertd_health_json(const struct alertd *a)
{
	json_t *arr = json_array(), *o;
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < ALERT_CAMERAS_MAX && a->health[i].camera[0] != '\0'; i++) {
		o = json_deep_copy(a->health[i].body);
		if (o == NULL)
			continue;
		json_object_set_new(o, "received_usec", json_integer(a->health[i].received_usec));
		json_array_append_new(arr, o);
	}
	o = json_pack("{s:o, s:b}", "cameras", arr, "control", ctl_up(a->ctl));
	return o;
}

static int
on_connected(struct ipc_conn *c, void *userdata)
{
	struct peer *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	ipc_conn_set_data(c, p);
	return 0;
}

static void
on_disconnected(struct ipc_conn *c, void *userdata)
{
	struct peer *p = ipc_conn_get_data(c);

	/* Unacknowledged HITs come again on the next connection. */
	if (p != NULL)
		free(p->q);
	free(p);
	ipc_conn_set_data(c, NULL);
}

/* A HIT always carries the read's image memfd (doc/protocol.md), empty if none. */
static const struct ipc_handler sock_table[] = {
	{ IPC_MSG_HIT, IPC_ROLE_MATCH | IPC_ROLE_TEST, true, true, on_hit },
	{ IPC_MSG_HEALTH, IPC_ROLE_CAPTURE | IPC_ROLE_TEST, false, true, on_health },
	{ 0 }
};

static const struct ipc_ops sock_ops = {
	.table = sock_table,
	.connected = on_connected,
	.disconnected = on_disconnected,
};

static int
alertd_start(struct daemon *d)
{
	struct alertd *a;
	char *path;
	int fd, r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	d->userdata = a;
	a->d = d;
	a->event = d->event;
	if ((r = http_new(a, &a->http)) < 0) {
		if (r == -EPERM || r == -EINVAL)
			exit(EXIT_CONFIG);
		return r;
	}
	if ((r = hits_new(a, &a->hits)) < 0 || (r = audio_new(a, &a->audio)) < 0 ||
	    (r = lists_new(a, &a->lists)) < 0)
		return r;
	if ((path = daemon_socket_path(d, "control.sock")) == NULL)
		return -ENOMEM;
	r = ctl_new(a, path, &a->ctl);
	free(path);
	if (r < 0)
		return r;
	if ((fd = daemon_listen(d, "alert.sock")) < 0)
		fatal_r(fd, "alert.sock");
	if ((r = ipc_server_new(d->event, fd, IPC_ROLE_ALERT, d->name,
	    IPC_ROLE_MATCH | IPC_ROLE_CAPTURE | IPC_ROLE_TEST, &sock_ops, a, &a->sock)) < 0)
		return r;
	daemon_status(d, "waiting for hits; MDC page on %s", d->conf->alert.listen);
	return 0;
}

static int
alertd_reload(struct daemon *d, const struct alpr_conf *old)
{
	struct alertd *a = d->userdata;

	if (d->conf->alert.volume != old->alert.volume)
		audio_set(a->audio, -1, d->conf->alert.volume);
	return 0;
}

static void
alertd_stop(struct daemon *d)
{
	struct alertd *a = d->userdata;
	size_t i;

	if (a == NULL)
		return;
	ipc_server_free(a->sock);
	http_free(a->http);
	lists_free(a->lists);
	ctl_free(a->ctl);
	audio_free(a->audio);
	hits_free(a->hits);
	for (i = 0; i < ALERT_CAMERAS_MAX; i++)
		json_decref(a->health[i].body);
	free(a);
}

static const struct daemon_ops ops = {
	.name = "alpr-alertd",
	.summary = "Alert the deputy to hot-list hits on the MDC.",
	.start = alertd_start,
	.reload = alertd_reload,
	.stop = alertd_stop,
};

int
main(int argc, char **argv)
{
	return daemon_main(&ops, argc, argv);
}
