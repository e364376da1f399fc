/*
 * What alpr-matchd needs from lib/store for hot lists: the narrow
 * interface, written before lib/store reached main (branch `store` has
 * the tables `hotlists` and `hotlist_entries`).  lib/hotlist/store.c
 * implements all but hotlist_store_versions() and
 * hotlist_store_reads_since() (lib/policy/hotlists.c reads the versions
 * itself; alpr-matchd's hits.c walks the reads of the retro window in
 * steps by rowid).  An import is staged in short transactions of its own
 * (hotlist_store_stage_buffer()) as a pending version, then made active by
 * hotlist_store_activate() inside the caller's transaction, as
 * hotlist_store_add_manual() runs, so that lib/policy commits them with
 * their access-log row.
 *
 * Runs in alpr-matchd only (it alone opens the database).
 *
 * Schema (lib/store step 4):
 *   ALTER TABLE hotlists ADD COLUMN format TEXT;
 *   ALTER TABLE hotlists ADD COLUMN file_name TEXT;
 *   ALTER TABLE hotlists ADD COLUMN sha256 TEXT;          -- of the file
 *   ALTER TABLE hotlists ADD COLUMN source_usec INTEGER;  -- date the source gives
 *   ALTER TABLE hotlists ADD COLUMN added INTEGER;
 *   ALTER TABLE hotlists ADD COLUMN removed INTEGER;
 *   ALTER TABLE hotlists ADD COLUMN unchanged INTEGER;
 *   ALTER TABLE hotlists ADD COLUMN skipped INTEGER;
 *   ALTER TABLE hotlists ADD COLUMN excluded INTEGER;     -- immigration, R4
 *   CREATE INDEX hotlist_entries_active ON hotlist_entries(list_id, expiry_usec);
 * (step 5 drops it again: entries are read by list_id in rowid order)
 * Step 7: hotlists.first_entry and the table hotlist_chunks (list_id,
 * first, records, texts): an imported version's entries are packed in
 * chunks of 1,024 (lib/hotlist/chunk.c), entry n of the version has the
 * id first_entry + n.  hotlist_entries keeps manual entries and the
 * versions imported before step 7.
 * Entry category is stored by name (hotlist_category_name()).  Immigration
 * categories never reach the table: the import refuses them
 * and the index refuses them again when loading.
 */
#ifndef ALPR_HOTLIST_STORE_H
#define ALPR_HOTLIST_STORE_H

#include <stdatomic.h>
#include <stdint.h>

#include "hotlist/hotlist.h"

struct store;

/*
 * hotlists.active: the version matching uses, one a list; a version
 * replaced by a newer one (kept for its hits); a version being written
 * by an import, which nothing reads until it is activated.  A pending
 * version whose import died (a crash, a kill) is removed at the next
 * import or by hotlist_store_prune_step(HOTLIST_PRUNE_PENDING).
 */
#define HOTLIST_REPLACED 0
#define HOTLIST_ACTIVE 1
#define HOTLIST_PENDING 2

struct hotlist_version {
	int64_t id;		/* hotlists.id: the version's row */
	int64_t first_entry;	/* its entries' ids start here (once active) */
	int64_t version;	/* 1, 2, ... per list name */
	int64_t imported_usec;
	int64_t source_usec;
	size_t n_entries, added, removed, unchanged, skipped, excluded;
};

/* A version written but not yet active. */
struct hotlist_staged {
	int64_t id;		/* its row (active = HOTLIST_PENDING) */
	int64_t prev_id;	/* the active version it replaces, 0: none */
	struct hotlist_version v;	/* counts against prev_id's entries */
};

/*
 * Parses the file's bytes (opts as for hotlist_parse_buffer(), on_entry
 * unset) straight into a pending version of its source: chunks of
 * entries written a few at a time in short transactions of this
 * connection (no transaction of the caller's may be open), so that other
 * writers of the database wait milliseconds, not the whole import.  Pending
 * versions left by an import that died are removed first.  Only the
 * previous version's key hashes are held (for the counts), no entries.
 * *ret_list is the list's provenance (source, file name, SHA-256, counts;
 * no entries).  All or nothing: on any error what was written is removed
 * again; a bad file gives -EINVAL and *ret_error.  cancel (NULL: none),
 * once true, stops it at the next chunk with -ECANCELED (a daemon that
 * stops).
 */
int hotlist_store_stage_buffer(struct store *s, const char *name, const char *buf, size_t len,
    const struct hotlist_parse_opts *opts, const char *user, const atomic_bool *cancel,
    struct hotlist_staged *ret, struct hotlist **ret_list, char **ret_error, char **ret_report);

/*
 * Inside the caller's transaction: the staged version becomes its list's
 * active one and the previous active one is marked replaced; its entry ids
 * are given now (ret->first_entry).  -ESTALE if another version of the
 * list was activated since it was staged (its counts would be wrong),
 * -ENOENT if it is no longer pending.
 */
int hotlist_store_activate(struct store *s, const struct hotlist_staged *sv,
    struct hotlist_version *ret);

/*
 * One short transaction of removing a version nothing needs: with
 * HOTLIST_PRUNE_REPLACED, replaced versions older than the one the active
 * version replaced, unless a hit names one of their entries (a replaced
 * version must no longer be in a running index: alpr-matchd asks for them
 * only after swapping in an index of the active versions); with
 * HOTLIST_PRUNE_PENDING, pending versions (only when no import runs).
 * Returns 1 while there may be more, 0 when done, or -errno.
 */
#define HOTLIST_PRUNE_PENDING 1u
#define HOTLIST_PRUNE_REPLACED 2u
int hotlist_store_prune_step(struct store *s, unsigned flags);
/* Removes version list_id whatever its state, in short transactions. */
int hotlist_store_drop(struct store *s, int64_t list_id);

/*
 * Stage, activate and prune in one call, each in transactions of its own
 * (alprctl --offline, tests, benchmarks): no transaction may be open.
 */
int hotlist_store_import_buffer(struct store *s, const char *name, const char *buf, size_t len,
    const struct hotlist_parse_opts *opts, const char *user, struct hotlist_version *ret,
    struct hotlist **ret_list, char **ret_error, char **ret_report);

/*
 * Feeds every entry of every active version not expired at now_usec to
 * the index, tagging it with the version's id.  Chunks (and rows) are
 * streamed: no copy of the list in memory besides the index.  A damaged
 * chunk gives -EBADMSG.
 */
int hotlist_store_fill_index(struct store *s, int64_t now_usec, struct hotlist_index *idx);

/* One manual entry (alprctl hotlist add) into the source "manual" list. */
int hotlist_store_add_manual(struct store *s, const struct hotlist_entry *e, const char *user,
    int64_t *ret_entry_id);

/*
 * The next entry id: manual rows and chunked versions draw ids from one
 * growing sequence, so that the entries a change brings have ids at or
 * above the value read before it (retro-match).
 */
int64_t hotlist_store_next_entry_id(struct store *s);

/* One stored entry with its strings, whichever form its version is in. */
struct hotlist_stored_entry {
	struct hotlist_entry e;		/* strings point into the buffers below */
	int64_t list_id;
	char list_name[HOTLIST_TEXT_MAX + 1];
	char source[HOTLIST_TEXT_MAX + 1];
	char case_no[HOTLIST_TEXT_MAX + 1];
	char reason[HOTLIST_TEXT_MAX + 1];
	char description[HOTLIST_TEXT_MAX + 1];
};

/*
 * The entry behind a hit's entry_id: -ENOENT if there is none, -EBADMSG
 * if its chunk is damaged.
 */
int hotlist_store_entry(struct store *s, int64_t entry_id, struct hotlist_stored_entry *ret);

/* Active versions, newest first, for alprctl hotlist status. */
int hotlist_store_versions(struct store *s, struct hotlist_version **ret, char ***ret_sources,
    size_t *ret_n);

/*
 * Retro-match: each read captured at or after since_usec, as the matcher
 * takes it (top-1 + candidates, state, capture time), with its rowid.
 * Stops early when fn returns < 0.
 */
int hotlist_store_reads_since(struct store *s, int64_t since_usec,
    int (*fn)(int64_t read_rowid, const struct hotlist_read *read, void *userdata),
    void *userdata);

#endif
