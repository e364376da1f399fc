/*
 * Hot-list changes without stopping matching.  Runs in alpr-matchd; the
 * list files come from alprctl through lib/policy (gate and access log)
 * and are parsed as hostile bytes by lib/hotlist.
 *
 * Two kinds of work leave the event loop for a thread each, on a
 * database connection of the thread's own (WAL lets it read, and write
 * between the loop's commits):
 *  - an import's long part (lib/policy's job: the parse, written as a
 *    pending version in short transactions), one import at a time, the
 *    others queued in arrival order; back on the loop,
 *    policy_control_job() activates the version with its access-log row
 *    in one short transaction and answers alprctl;
 *  - an index build from the active versions (read-only connection, one
 *    read transaction: a consistent set of versions), one at a time; a
 *    change that comes while one builds marks the build to run again
 *    (coalesced: the next build reads whatever is active then).
 * A thread says it is done through an eventfd the loop watches; the loop
 * joins it, then swaps the new index in with one pointer store (matching
 * is single-threaded on the loop: a read sees the old index or the new
 * one, whole) and frees the old.  A build that fails (a damaged chunk:
 * -EBADMSG, another chunk format: -EPROTO, I/O) keeps the old index and
 * says why: the journal (with the versions' ids), the service status
 * line, and `alprctl hotlist status` ("matching" of each version).
 * After a swap, versions nothing needs any more are removed in short
 * steps from a timer (hotlist_store_prune_step()), pending leftovers of a
 * crashed import too while no import runs.
 *
 * The watchdog: the loop is never held by a list change, so its own
 * timer keeps feeding it.  The first index, at start, is built on the
 * loop before READY=1 (systemd's watchdog starts at READY; reads must not
 * be matched against an empty index).
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "hotlist/hotlist-store.h"
#include "matchd.h"

#define PRUNE_GAP_USEC (20 * USEC_PER_MSEC)	/* reads get stored between prune steps */
#define INDEX_LISTS_MAX 256

struct list_import {
	struct list_import *next;
	struct matchd *m;
	struct policy_job *job;
	json_t *request;		/* for the second pass through the gate */
	struct policy_peer peer;
	struct ipc_conn *conn;		/* NULL once the client has gone */
	uint64_t seq;
	pthread_t thread;
	bool started;
	atomic_bool done;
};

struct list_build {
	struct matchd *m;
	char *classes;			/* copies: a reload may free the config */
	int max_substitutions;
	int64_t now_usec;		/* expired entries are left out */
	int64_t retro_min;		/* retro-match its changes from this entry id; 0: none */
	struct hotlist_index *idx;
	int64_t ids[INDEX_LISTS_MAX];	/* the versions it holds */
	size_t n_ids;
	char versions[512];		/* "svs v3 (id 12), manual v1 (id 2)" for the journal */
	int error;
	int64_t start_usec, took_usec;
	pthread_t thread;
	atomic_bool done;
};

static void
signal_loop(struct matchd *m)
{
	uint64_t one = 1;

	/* The eventfd's counter only grows: a full write cannot fail short of a bug. */
	if (write(m->lists_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("lists: cannot wake the loop");
}

/* A connection of the thread's own on matchd's database. */
static int
worker_store(struct matchd *m, bool read_only, struct store **ret)
{
	struct store *s = NULL;
	int r;

	if ((r = store_open(store_path(m->store), 0, &s)) < 0)
		return r;
	/*
	 * The index build only reads (an import's staging sets its own sync
	 * level).  Both pass over each page once: a small page cache, not the
	 * loop's 32 MB, so that a reload's peak is the two indexes.
	 */
	if ((read_only && sqlite3_exec(store_db(s), "PRAGMA query_only = 1", NULL, NULL,
	    NULL) != SQLITE_OK) || sqlite3_exec(store_db(s), "PRAGMA cache_size = -4096", NULL,
	    NULL, NULL) != SQLITE_OK) {
		store_free(s);
		return -EIO;
	}
	*ret = s;
	return 0;
}

/* ---- index builds ---------------------------------------------------- */

/* The active versions' ids and names, in the build's read transaction. */
static int
build_versions(struct store *s, struct list_build *b)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int r, rc;

	if ((r = store_prepare(s, "SELECT id, name, version FROM hotlists WHERE active = 1"
	    " ORDER BY id", &st)) < 0)
		return r;
	b->versions[0] = '\0';
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && b->n_ids < INDEX_LISTS_MAX) {
		b->ids[b->n_ids++] = sqlite3_column_int64(st, 0);
		if (n < sizeof(b->versions))
			n += (size_t)snprintf(b->versions + n, sizeof(b->versions) - n,
			    "%s%s v%lld (id %lld)", n > 0 ? ", " : "",
			    (const char *)sqlite3_column_text(st, 1),
			    (long long)sqlite3_column_int64(st, 2),
			    (long long)sqlite3_column_int64(st, 0));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_error(s, rc);
}

/* The index of the active versions, with its own connection; any thread. */
static int
build_index(struct store *s, struct list_build *b)
{
	struct hotlist_index_opts o = { .classes = b->classes,
		.max_substitutions = b->max_substitutions };
	int r;

	if ((r = hotlist_index_new(&o, &b->idx)) < 0)
		return r;
	/* One read transaction: the versions and their chunks as of one moment. */
	if (sqlite3_exec(store_db(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if ((r = build_versions(s, b)) == 0)
		r = hotlist_store_fill_index(s, b->now_usec, b->idx);
	(void)sqlite3_exec(store_db(s), "COMMIT", NULL, NULL, NULL);
	if (r == 0)
		r = hotlist_index_finish(b->idx);
	return r;
}

static void *
build_thread(void *userdata)
{
	struct list_build *b = userdata;
	struct store *s = NULL;
	int r;

	if ((r = worker_store(b->m, true, &s)) == 0)
		r = build_index(s, b);
	store_free(s);
	b->error = r;
	b->took_usec = time_monotonic_usec() - b->start_usec;
	atomic_store(&b->done, true);
	signal_loop(b->m);
	return NULL;
}

static struct list_build *
build_new(struct matchd *m)
{
	const struct conf_match *cm = &m->d->conf->match;
	struct list_build *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->m = m;
	b->max_substitutions = (int)cm->max_substitutions;
	b->now_usec = store_now(m->store);
	b->start_usec = time_monotonic_usec();
	if (cm->ocr_classes != NULL && (b->classes = strdup(cm->ocr_classes)) == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

static void
build_free(struct list_build *b)
{
	if (b == NULL)
		return;
	hotlist_index_free(b->idx);
	free(b->classes);
	free(b);
}

/* The new index in, the old one out: the loop's only part of a reload. */
static void
swap_in(struct matchd *m, struct list_build *b)
{
	struct hotlist_index_stats st;
	struct hotlist_index *old = m->index;

	m->index = b->idx;
	b->idx = NULL;
	memcpy(m->index_ids, b->ids, b->n_ids * sizeof(b->ids[0]));
	m->n_index_ids = b->n_ids;
	m->index_error = 0;
	if (old != NULL) {
		hotlist_index_free(old);
		/*
		 * The old index's blocks go back to malloc, not to the system;
		 * hand them back, so that RSS follows the active list's size
		 * after a reload instead of its peak.
		 */
		malloc_trim(0);
	}
	hotlist_index_get_stats(m->index, &st);
	log_info("hot-list index: in use lists=[%s] entries=%zu wildcards=%zu refused=%zu"
	    " bytes=%zu build_ms=%lld", b->versions, st.n_entries, st.n_wildcards, st.n_refused,
	    st.bytes, (long long)(b->took_usec / USEC_PER_MSEC));
	daemon_status(m->d, "serving reads and control requests; hot lists: %zu entries",
	    st.n_entries);
}

static void lists_prune(struct matchd *m);

static void
build_done(struct matchd *m)
{
	struct list_build *b = m->build;
	int k;

	pthread_join(b->thread, NULL);
	m->build = NULL;
	if (b->error < 0) {
		m->index_error = b->error;
		log_warn_r(b->error, "hot-list index: cannot build lists=[%s], keeping the %s one",
		    b->versions, m->index != NULL ? "previous" : "empty");
		daemon_status(m->d, "serving reads; hot-list reload failed (%s), matching against"
		    " the previous lists", strerror(-b->error));
		/* Its changes are retro-matched by the next build that succeeds. */
		if (b->retro_min > 0 && (m->retro_pending == 0 || b->retro_min < m->retro_pending))
			m->retro_pending = b->retro_min;
	} else {
		swap_in(m, b);
		if (b->retro_min > 0 && (k = hits_retro_start(m, b->retro_min)) < 0)
			log_warn_r(k, "cannot start the retro-match");
	}
	build_free(b);
	if (m->build_again) {
		m->build_again = false;
		lists_build(m);
	} else
		lists_prune(m);
}

void
lists_build(struct matchd *m)
{
	struct list_build *b;
	int r;

	if (m->build != NULL) {
		m->build_again = true;	/* coalesced: one more build after this one */
		return;
	}
	if ((b = build_new(m)) == NULL) {
		log_warnx("hot-list index: out of memory, keeping the current one");
		return;
	}
	b->retro_min = m->retro_pending;
	m->retro_pending = 0;
	if ((r = pthread_create(&b->thread, NULL, build_thread, b)) != 0) {
		log_warn_r(-r, "hot-list index: cannot start a build, keeping the current one");
		m->retro_pending = b->retro_min;
		build_free(b);
		return;
	}
	m->build = b;
	log_info("hot-list index: building aside, matching goes on with the current one");
}

void
lists_changed(struct matchd *m, int64_t first_new)
{
	if (first_new > 0 && (m->retro_pending == 0 || first_new < m->retro_pending))
		m->retro_pending = first_new;
	lists_build(m);
}

int
lists_load_now(struct matchd *m)
{
	struct list_build *b = build_new(m);
	int r;

	if (b == NULL)
		return -ENOMEM;
	/* At start, before READY=1: on the loop's own connection. */
	if ((r = build_index(m->store, b)) < 0) {
		m->index_error = r;
		log_warn_r(r, "hot-list index: cannot build lists=[%s], starting with an empty one",
		    b->versions);
	} else {
		b->took_usec = time_monotonic_usec() - b->start_usec;
		swap_in(m, b);
	}
	build_free(b);
	return r;
}

const char *
lists_matching(int64_t list_id, void *userdata)
{
	struct matchd *m = userdata;
	size_t i;

	for (i = 0; i < m->n_index_ids; i++)
		if (m->index_ids[i] == list_id)
			return "yes";
	if (m->build != NULL)
		return "not yet: the index is being built";
	if (m->index_error < 0) {
		snprintf(m->index_why, sizeof(m->index_why), "no: the reload failed (%s), the"
		    " previous lists are matched", strerror(-m->index_error));
		return m->index_why;
	}
	return "no";
}

/* ---- removing what no one needs ------------------------------------- */

static int
prune_tick(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct matchd *m = userdata;
	unsigned flags = 0;
	int r;

	/* Pending versions while no import runs; replaced ones while the index holds none. */
	if (m->imports == NULL)
		flags |= HOTLIST_PRUNE_PENDING;
	if (m->build == NULL && m->index_error == 0)
		flags |= HOTLIST_PRUNE_REPLACED;
	if (flags == 0)
		return 0;
	if ((r = hotlist_store_prune_step(m->store, flags)) < 0) {
		log_warn_r(r, "hot lists: cannot remove an old version, ignoring");
		return 0;
	}
	if (r > 0) {
		(void)sd_event_source_set_time(es, usec + PRUNE_GAP_USEC);
		(void)sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
	}
	return 0;
}

static void
lists_prune(struct matchd *m)
{
	uint64_t now;

	(void)sd_event_now(m->d->event, CLOCK_MONOTONIC, &now);
	(void)sd_event_source_set_time(m->prune_timer, now + PRUNE_GAP_USEC);
	(void)sd_event_source_set_enabled(m->prune_timer, SD_EVENT_ONESHOT);
}

/* ---- imports --------------------------------------------------------- */

static void *
import_thread(void *userdata)
{
	struct list_import *li = userdata;
	struct store *s = NULL;

	if (worker_store(li->m, false, &s) < 0)
		s = NULL;
	(void)policy_job_run(li->job, s);
	store_free(s);
	atomic_store(&li->done, true);
	signal_loop(li->m);
	return NULL;
}

static void
import_next(struct matchd *m)
{
	struct list_import *li = m->imports;
	int r;

	if (li == NULL || li->started)
		return;
	if ((r = pthread_create(&li->thread, NULL, import_thread, li)) != 0) {
		/* Runs unstarted to its end: the job says it never ran. */
		log_warn_r(-r, "hot-list import: cannot start a thread");
		atomic_store(&li->done, true);
		signal_loop(m);
		return;
	}
	li->started = true;
}

static void
import_done(struct matchd *m)
{
	struct list_import *li = m->imports;
	struct reply_to to = { .conn = li->conn, .seq = li->seq };
	int64_t first_new;
	int r;

	if (li->started)
		pthread_join(li->thread, NULL);
	m->imports = li->next;
	if (m->imports == NULL)
		m->imports_tail = &m->imports;
	/* The activation takes the next ids; the retro-match starts there. */
	first_new = hits_next_entry_id(m);
	r = policy_control_job(m->policy, li->request, &li->peer, li->job, matchd_send_reply, &to);
	if (r < 0)
		log_warn_r(r, "hot-list import uid=%u: cannot send the answer, ignoring",
		    (unsigned)li->peer.uid);
	log_info("hot-list import uid=%u: %s", (unsigned)li->peer.uid,
	    to.ok ? "activated" : "refused or failed (see the access log)");
	if (to.ok)
		lists_changed(m, first_new);
	else
		lists_prune(m);	/* what it staged, if anything */
	policy_job_free(li->job);
	json_decref(li->request);
	free(li);
	import_next(m);
}

int
lists_import_job(struct policy_job *job, void *emit_userdata, void *userdata)
{
	struct matchd *m = userdata;
	struct reply_to *to = emit_userdata;
	struct list_import *li;

	if ((li = calloc(1, sizeof(*li))) == NULL)
		return -ENOMEM;
	li->m = m;
	li->job = job;
	li->request = json_incref((json_t *)to->request);
	li->peer = *to->peer;
	li->conn = to->conn;
	li->seq = to->seq;
	*m->imports_tail = li;
	m->imports_tail = &li->next;
	log_info("hot-list import uid=%u: parsing aside, matching goes on", (unsigned)li->peer.uid);
	import_next(m);
	return 0;
}

void
lists_conn_gone(struct matchd *m, struct ipc_conn *c)
{
	struct list_import *li;

	/* The import still finishes (it was allowed and is logged); no one hears of it. */
	for (li = m->imports; li != NULL; li = li->next)
		if (li->conn == c)
			li->conn = NULL;
}

static int
on_lists_event(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct matchd *m = userdata;
	uint64_t n;

	(void)es;
	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("lists: eventfd");
	if (m->build != NULL && atomic_load(&m->build->done))
		build_done(m);
	while (m->imports != NULL && atomic_load(&m->imports->done))
		import_done(m);
	return 0;
}

int
lists_start(struct matchd *m)
{
	int r;

	m->imports_tail = &m->imports;
	if ((m->lists_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -errno;
	if ((r = sd_event_add_io(m->d->event, &m->lists_source, m->lists_fd, EPOLLIN,
	    on_lists_event, m)) < 0)
		return r;
	if ((r = sd_event_add_time(m->d->event, &m->prune_timer, CLOCK_MONOTONIC, 0, 0,
	    prune_tick, m)) < 0)
		return r;
	(void)sd_event_source_set_enabled(m->prune_timer, SD_EVENT_OFF);
	policy_set_jobs(m->policy, lists_import_job, m);
	policy_set_list_state(m->policy, lists_matching, m);
	(void)lists_load_now(m);
	/* Leftovers of an import that died, and old versions, go in steps. */
	lists_prune(m);
	return 0;
}

void
lists_stop(struct matchd *m)
{
	struct list_import *li;

	/*
	 * A running import stops at its next chunk (its pending version goes
	 * at the next start); a build ends on its own (a second or so).
	 */
	for (li = m->imports; li != NULL; li = li->next)
		policy_job_cancel(li->job);
	if (m->build != NULL) {
		pthread_join(m->build->thread, NULL);
		build_free(m->build);
		m->build = NULL;
	}
	while ((li = m->imports) != NULL) {
		if (li->started)
			pthread_join(li->thread, NULL);
		m->imports = li->next;
		policy_job_free(li->job);
		json_decref(li->request);
		free(li);
	}
	sd_event_source_unref(m->prune_timer);
	sd_event_source_unref(m->lists_source);
	if (m->lists_fd >= 0)
		close(m->lists_fd);
	hotlist_index_free(m->index);
	m->index = NULL;
}
