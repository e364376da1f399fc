/*
 * alpr-matchd: owns the database and the hot lists; matches every read,
 * stores reads and hits, and sends hits to alpr-alertd.  Serves
 * match.sock (reads from alpr-ocrd) and control.sock (alprctl, alertd).
 * Trusts its peers only as far as their role and SO_PEERCRED allow.
 *
 * The database (lib/store) is opened here and nowhere else; control
 * requests run through lib/policy (policy_control), the same code that
 * alprctl --offline runs.  Reads are stored in reads.c, matched and their
 * hits stored and sent in hits.c.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "daemon/daemon.h"
#include "base/time.h"
#include "ipc/ipc.h"
#include "policy/policy.h"
#include "store/store.h"
#include "matchd.h"

#define ALERT_USER "alpr-alertd"	/* alpr-alertd's system user (alpr.sysusers) */

#define PURGE_INTERVAL_USEC (3600 * USEC_PER_SEC)	/* the retention purge, hourly */
#define PURGE_FIRST_USEC (60 * USEC_PER_SEC)		/* and a minute after start */
#define PURGE_STEP_GAP_USEC (10 * USEC_PER_MSEC)	/* reads get stored between steps */


/* Sends one answer of policy_control() as a REPLY with the request's seq. */
int
matchd_send_reply(void *userdata, json_t *body, bool more, int fd)
{
	struct reply_to *to = userdata;
	uint32_t flags = 0;

	if (more)
		json_object_set_new(body, "more", json_true());
	if (!json_is_true(json_object_get(body, "ok")))
		flags |= IPC_F_ERROR;
	else if (!more)
		to->ok = true;
	if (to->conn == NULL)
		return 0;	/* the client has gone */
	if (fd >= 0)
		flags |= IPC_F_FD;
	return ipc_conn_send(to->conn, IPC_MSG_REPLY, flags, to->seq, body, fd);
}

static int
on_request(struct ipc_conn *c, struct ipc_msg *m, void *userdata)
{
	struct matchd *md = userdata;
	struct policy_peer peer = {
		.uid = ipc_conn_peer_uid(c),
		.pid = ipc_conn_peer_pid(c),
		.alert = ipc_conn_peer_role(c) == IPC_ROLE_ALERT,
	};
	struct reply_to to = { .conn = c, .seq = m->seq, .request = m->body, .peer = &peer };
	const char *op = NULL;
	int64_t first_new = 0;
	bool list_op;
	int r;

	json_unpack(m->body, "{s:s}", "op", &op);
	/* hotlist.import answers later, from lists.c, once its parse ran aside. */
	list_op = op != NULL && strcmp(op, "hotlist.add") == 0;
	if (list_op)
		first_new = hits_next_entry_id(md);

	r = policy_control_fd(md->policy, m->body, m->fd, &peer, matchd_send_reply, &to);
	/*
	 * A list changed: a new index is built aside and swapped in (a
	 * failure keeps the old one), then the window's reads are matched
	 * against the new entries.
	 */
	if (to.ok && list_op)
		lists_changed(md, first_new);
	if (r < 0)
		log_warn_r(r, "control request op=%s uid=%u: cannot send the answer, ignoring",
		    op != NULL ? op : "?", (unsigned)peer.uid);
	else
		log_debug("control request op=%s uid=%u", op != NULL ? op : "?", (unsigned)peer.uid);
	return 0;
}

/*
 * SO_PEERCRED: the socket's mode and group already limit who connects; a
 * peer that says it is alpr-alertd must also run as alpr-alertd's user
 * (or as ours or root, which a test or a single-user install uses).
 */
static int
control_connected(struct ipc_conn *c, void *userdata)
{
	uid_t uid = ipc_conn_peer_uid(c);
	struct passwd *pw;

	if (ipc_conn_peer_role(c) != IPC_ROLE_ALERT || uid == 0 || uid == geteuid())
		return 0;
	pw = getpwnam(ALERT_USER);
	if (pw != NULL && pw->pw_uid == uid)
		return 0;
	log_warnx("control.sock: peer uid=%u pid=%d claims role alert, refused",
	    (unsigned)uid, (int)ipc_conn_peer_pid(c));
	return -EPERM;
}

static void
control_gone(struct ipc_conn *c, void *userdata)
{
	lists_conn_gone(userdata, c);
}

static const struct ipc_handler control_table[] = {
	{ IPC_MSG_REQUEST, IPC_ROLE_CTL | IPC_ROLE_ALERT, IPC_FD_MAYBE, true, on_request },
	{ 0 }
};
static const struct ipc_handler alert_table[] = { { 0 } };
static const struct ipc_ops control_ops = { .table = control_table,
	.connected = control_connected, .disconnected = control_gone };
static const struct ipc_ops alert_ops = { .table = alert_table };

/*
 * The retention purge (R8) runs here, in steps that hold the database for
 * about STORE_STEP_BUDGET_USEC with 10 ms between them, so that reads keep
 * being stored while it works and the watchdog stays fed: first the
 * expired reads (store_purge_step), then the freed pages in slices
 * (store_vacuum_step).  Counts go to the journal and the access log;
 * plates go nowhere.
 */
static void
purge_done(struct matchd *m, int64_t days)
{
	struct policy_log e = { .user = "alpr-matchd", .peer_uid = -1, .op = "purge",
		.outcome = "ok" };
	char terms[64];
	int r;

	(void)store_trash_flush(m->store);
	if (m->purge.reads > 0 || m->purge.images > 0) {
		log_info("retention purge: removed reads=%llu hits=%llu images=%llu"
		    " retention_days=%lld", (unsigned long long)m->purge.reads,
		    (unsigned long long)m->purge.hits, (unsigned long long)m->purge.images,
		    (long long)days);
		snprintf(terms, sizeof(terms), "{\"retention_days\":%lld}", (long long)days);
		e.terms = terms;
		e.result_count = (int64_t)m->purge.reads;
		if ((r = policy_log_append(m->store, &e)) < 0)
			log_warn_r(r, "access log: cannot record the purge, ignoring");
	}
	m->purge_cutoff_usec = 0;
	m->purge_vacuuming = false;
}

static int
purge_tick(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct matchd *m = userdata;
	int64_t days = m->d->conf->storage.retention_days;
	uint64_t next = usec + PURGE_STEP_GAP_USEC;
	int r;

	if (m->purge_cutoff_usec == 0) {
		memset(&m->purge, 0, sizeof(m->purge));
		m->purge_cutoff_usec = store_now(m->store) - days * USEC_PER_DAY;
	}
	if (!m->purge_vacuuming) {
		r = store_purge_step(m->store, m->purge_cutoff_usec, STORE_STEP_BUDGET_USEC,
		    &m->purge);
		if (r < 0) {
			log_warn_r(r, "retention purge step failed, retrying in an hour");
			purge_done(m, days);
			next = usec + PURGE_INTERVAL_USEC;
		} else if (r == 0)
			m->purge_vacuuming = true;
	} else if ((r = store_vacuum_step(m->store, STORE_STEP_BUDGET_USEC)) <= 0) {
		if (r < 0)
			log_warn_r(r, "retention purge: vacuum failed, ignoring");
		purge_done(m, days);
		next = usec + PURGE_INTERVAL_USEC;
	}
	(void)sd_event_source_set_time(es, next);
	(void)sd_event_source_set_enabled(es, SD_EVENT_ON);
	return 0;
}

/* The purge op on control.sock: starts a purge now, unless one is running. */
static int
purge_start(void *userdata)
{
	struct matchd *m = userdata;
	uint64_t now;
	int r;

	if (m->purge_cutoff_usec != 0)
		return 0;
	if ((r = sd_event_now(m->d->event, CLOCK_MONOTONIC, &now)) < 0 ||
	    (r = sd_event_source_set_time(m->purge_timer, now)) < 0)
		return r;
	return sd_event_source_set_enabled(m->purge_timer, SD_EVENT_ON);
}

/*
 * A full disk (lib/store keeps a reserve file and gives it up when a write
 * finds no room): said once in the journal and the service status, and
 * the status op says it to alprctl; checked every second until there is
 * room again, then images are stored again.
 */
static int
space_tick(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct matchd *m = userdata;
	int r;

	if (store_space(m->store) < 0 && (r = store_space_check(m->store)) < 0 && r != -ENOSPC)
		log_warn_r(r, "storage: cannot check the free space, ignoring");
	if (store_space(m->store) < 0 && !m->space_full) {
		m->space_full = true;
		log_warnx("storage: the disk is full; reads and hits are stored without their"
		    " images until there is room");
		daemon_status(m->d, "storage failing: disk full, storing reads without images");
	} else if (store_space(m->store) == 0 && m->space_full) {
		m->space_full = false;
		log_info("storage: there is room again, storing images again (reads stored"
		    " without images=%llu)", (unsigned long long)m->images_dropped);
		daemon_status(m->d, "serving reads and control requests");
	}
	(void)sd_event_source_set_time(es, usec + USEC_PER_SEC);
	(void)sd_event_source_set_enabled(es, SD_EVENT_ON);
	return 0;
}

static int
open_database(struct matchd *m, struct daemon *d)
{
	char *path = NULL;
	int r, k;

	if (d->conf->storage.database[0] != '\0')
		path = strdup(d->conf->storage.database);
	else if (asprintf(&path, "%s/alpr.db", d->conf->general.state_dir) < 0)
		path = NULL;
	if (path == NULL)
		return -ENOMEM;
	r = store_open(path, STORE_OPEN_CREATE, &m->store);
	if (r < 0)
		log_warn_r(r, "database %s", path);
	else if ((k = store_space_reserve(m->store)) < 0 && k != -ENOSPC)
		log_warn_r(k, "storage: cannot make the reserve file %s.reserve, ignoring", path);
	free(path);
	if (r < 0)
		return r;
	/* The checkpoint waits for the ACKs: batch_commit() runs it after them. */
	store_checkpoint_defer(m->store, true);
	return policy_new(m->store, d->conf, &m->policy);
}

static int
matchd_start(struct daemon *d)
{
	struct matchd *m;
	char *path;
	int fd, r;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	d->userdata = m;
	m->d = d;
	m->lists_fd = -1;
	if ((r = open_database(m, d)) < 0)
		return r;
	if ((r = sd_event_add_time_relative(d->event, &m->purge_timer, CLOCK_MONOTONIC,
	    PURGE_FIRST_USEC, 0, purge_tick, m)) < 0)
		return r;
	if ((r = sd_event_add_time_relative(d->event, &m->space_timer, CLOCK_MONOTONIC, 0, 0,
	    space_tick, m)) < 0)
		return r;
	if ((fd = daemon_listen(d, "match.sock")) < 0)
		fatal_r(fd, "match.sock");
	if ((r = ipc_server_new(d->event, fd, IPC_ROLE_MATCH, d->name, IPC_ROLE_OCR | IPC_ROLE_TEST,
	    &matchd_read_ops, m, &m->reads)) < 0)
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
	if ((r = reads_start(m)) < 0 || (r = hits_start(m)) < 0 || (r = lists_start(m)) < 0)
		return r;
	policy_set_resend(m->policy, hits_resend, m);
	policy_set_purge(m->policy, purge_start, m);
	daemon_status(d, "serving reads and control requests");
	return 0;
}

static void
matchd_stop(struct daemon *d)
{
	struct matchd *m = d->userdata;

	reads_stop(m);
	lists_stop(m);
	hits_stop(m);
	sd_event_source_unref(m->purge_timer);
	sd_event_source_unref(m->space_timer);
	ipc_client_free(m->alert);
	ipc_server_free(m->control);
	ipc_server_free(m->reads);
	policy_free(m->policy);
	store_free(m->store);
	free(m);
}

/* The policy reads the config at each request: point it at the new one. */
static int
matchd_reload(struct daemon *d, const struct alpr_conf *old)
{
	struct matchd *m = d->userdata;

	policy_set_conf(m->policy, d->conf);
	hotlist_cooldown_set(m->cooldown, d->conf->match.alert_cooldown_sec * USEC_PER_SEC);
	return 0;
}

static const struct daemon_ops ops = {
	.name = "alpr-matchd",
	.summary = "Match plate reads against hot lists and store them.",
	.start = matchd_start,
	.reload = matchd_reload,
	.stop = matchd_stop,
};

int
main(int argc, char **argv)
{
	return daemon_main(&ops, argc, argv);
}
