/*
 * alpr-matchd's state, shared by its role files: main.c (start, stop,
 * control.sock, purge), reads.c (match.sock: READ, group commit, ACK),
 * hits.c (matching, storing and sending hits, retro-match) and lists.c
 * (the hot-list index, built and imports parsed in threads, swapped on
 * the loop).  Everything here belongs to the loop's thread; the list
 * threads get copies (lists.c).
 */
#ifndef ALPR_MATCHD_H
#define ALPR_MATCHD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "base/latency.h"
#include "daemon/daemon.h"
#include "hotlist/hotlist.h"
#include "ipc/ipc.h"
#include "policy/policy.h"
#include "store/store.h"

#define READ_BATCH_MAX 64			/* reads per group commit */
#define READ_BATCH_DELAY_USEC (5 * USEC_PER_MSEC)	/* commit at most this late */
#define READ_BATCH_ACCURACY_USEC (1 * USEC_PER_MSEC)	/* and the timer no later than this after */

struct pending_read;
struct hit_sent;
struct list_import;
struct list_build;

/* Where policy_control()'s answers go: a control request's connection (NULL: nowhere). */
struct reply_to {
	struct ipc_conn *conn;
	uint64_t seq;
	bool ok;			/* the final answer said ok */
	const json_t *request;		/* the request (an import keeps it for its second pass) */
	const struct policy_peer *peer;
};
int matchd_send_reply(void *userdata, json_t *body, bool more, int fd);

struct matchd {
	struct daemon *d;
	sd_event_source *purge_timer;
	int64_t purge_cutoff_usec;	/* 0: no purge running */
	bool purge_vacuuming;		/* the reads are gone; freed pages go back */
	struct store_purge_stats purge;
	struct ipc_server *reads, *control;
	struct ipc_client *alert;
	struct store *store;
	struct policy *policy;

	/* reads.c: the batch waiting for its commit */
	struct pending_read *batch;
	size_t n_batch;
	sd_event_source *batch_timer;
	uint64_t images_dropped;	/* reads stored without images: disk full */
	uint64_t batches, batch_commits;	/* group commits, and the store commits they took */
	/* Each group commit's time (stop line): in all, syncing its images, its commit. */
	struct latency batch_lat, images_sync_lat, commit_lat;
	uint64_t reads_refused;		/* bad READs refused */

	/* main.c: the disk's state, watched while it is full */
	sd_event_source *space_timer;
	bool space_full;		/* as last logged */

	/* lists.c: the index (swapped in whole), its builds and imports off the loop */
	struct hotlist_index *index;	/* NULL: no list loaded */
	int64_t index_ids[256];		/* the versions it holds */
	size_t n_index_ids;
	int index_error;		/* the last build's failure, 0 once one succeeds */
	char index_why[160];
	int lists_fd;			/* eventfd: a list thread is done */
	sd_event_source *lists_source, *prune_timer;
	struct list_build *build;	/* the one running, or NULL */
	bool build_again;		/* a change came while it ran */
	int64_t retro_pending;		/* lowest entry id of changes not in a build yet */
	struct list_import *imports, **imports_tail;	/* the first runs, the others wait */

	/* hits.c */
	struct hotlist_cooldown *cooldown;
	struct hit_sent *sent;		/* HITs waiting for alertd's ACK, by seq */
	size_t n_sent, alloc_sent;
	sd_event_source *retro_timer;
	int64_t retro_min_entry;	/* 0: no retro-match running */
	int64_t retro_cursor, retro_since;
	size_t retro_hits;
};

/* reads.c */
extern const struct ipc_ops matchd_read_ops;
int reads_start(struct matchd *m);
void reads_stop(struct matchd *m);

/* lists.c */
int lists_start(struct matchd *m);
void lists_stop(struct matchd *m);
/* A list changed (its new entries' ids start at first_new, 0: none): build aside, swap. */
void lists_changed(struct matchd *m, int64_t first_new);
void lists_build(struct matchd *m);
/* The index built on the loop (start): 0, or the error (the empty or old one stays). */
int lists_load_now(struct matchd *m);
int lists_import_job(struct policy_job *job, void *emit_userdata, void *userdata);
const char *lists_matching(int64_t list_id, void *userdata);
void lists_conn_gone(struct matchd *m, struct ipc_conn *c);

/* hits.c */
int hits_start(struct matchd *m);
void hits_stop(struct matchd *m);
/*
 * Matches a stored read (entries with id >= min_entry only; > 0 marks
 * the hits retro) and stores its new hits in one transaction, or in
 * the caller's when one is open (reads.c: the batch's); appends their ids to ids (room for HOTLIST_CANDIDATES_MAX * 4).
 */
int hits_match_read(struct matchd *m, int64_t read_rowid, const struct store_read *rd,
    int64_t min_entry, int64_t *ids, size_t max_ids, size_t *n_ids);
/* Retro-match the window's reads against entries with id >= min_entry (stored as retro). */
int hits_retro_start(struct matchd *m, int64_t min_entry);
/* The id the next hot-list entry will get. */
int64_t hits_next_entry_id(struct matchd *m);
/* Builds the HIT of a stored hit from the store and queues it on alert.sock. */
int hits_send(struct matchd *m, int64_t hit_id);
/* hits_send() for lib/policy's hit_resend. */
int hits_resend(int64_t hit_id, void *userdata);

#endif
