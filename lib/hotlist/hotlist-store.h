/*
 * What alpr-matchd needs from lib/store for hot lists: the narrow
 * interface, written before lib/store reached main (branch `store` has
 * the tables `hotlists` and `hotlist_entries`).  lib/hotlist/store.c
 * implements all but hotlist_store_versions() and
 * hotlist_store_reads_since() (lib/policy/hotlists.c reads the versions
 * itself; alpr-matchd's hits.c walks the reads of the retro window in
 * steps by rowid).  hotlist_store_import() and
 * hotlist_store_add_manual() run inside the caller's transaction, so that
 * lib/policy commits them with their access-log row.
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
 * categories never reach the table: hotlist_store_import() refuses them
 * and the index refuses them again when loading.
 */
#ifndef ALPR_HOTLIST_STORE_H
#define ALPR_HOTLIST_STORE_H

#include <stdint.h>

#include "hotlist/hotlist.h"

struct store;

struct hotlist_version {
	int64_t id;		/* hotlists.id: the version's row */
	int64_t version;	/* 1, 2, ... per list name */
	int64_t imported_usec;
	int64_t source_usec;
	size_t n_entries, added, removed, unchanged, skipped, excluded;
};

/*
 * Stores list as the new active version of list->source in one
 * transaction: the previous active version of that source is marked
 * inactive, counts against it are computed (as hotlist_diff() does),
 * entries are packed in chunks (schema step 7), and the source's older
 * versions no hit names are deleted.  All or nothing.  user is the
 * importing user's name (access log and provenance).
 */
int hotlist_store_import(struct store *s, const struct hotlist *list, const char *user,
    struct hotlist_version *ret);

/*
 * The same streamed from the file's bytes as they parse (opts as for
 * hotlist_parse_buffer(), on_entry unset): no list of entries is held,
 * only the previous version's key hashes for the counts.  *ret_list is
 * the list's provenance (source, file name, SHA-256, counts; no
 * entries).  A bad file gives -EINVAL and *ret_error; the caller's
 * transaction must then be rolled back, as on any error.
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
