/*
 * Hot lists: parsing the agency's list files into entries, and the
 * in-memory index alpr-matchd matches every read against.
 *
 * Runs in alprctl (import: parsing files an administrator hands us, so
 * every byte is hostile until checked) and in alpr-matchd (the index,
 * built from entries the store already checked).  Nothing here logs above
 * debug, nothing here writes a plate anywhere but into the caller's
 * memory.
 *
 * Entries hold what an alert needs about a vehicle and nothing about a
 * person: no names, no dates of birth (policy IV.C, R4/R6).  Entries of
 * an immigration-enforcement category or NCIC list code are never loaded
 * (policy IV.C.4): the parsers count and drop them, and the index refuses
 * them a second time in case one reached it some other way.
 */
#ifndef ALPR_HOTLIST_H
#define ALPR_HOTLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A plate is 1..10 of A-Z0-9 (NCIC LIC is 10 wide); a wildcard pattern
 * for a partial plate may use '?' (one character) and '*' (any run). */
#define HOTLIST_PLATE_MAX 10
#define HOTLIST_PATTERN_MAX 15
#define HOTLIST_PATTERN_MIN_LITERALS 2	/* "*" alone would alert on every car */
#define HOTLIST_CANDIDATES_MAX 11	/* top-1 plus up to 10 candidates */
#define HOTLIST_SUBSTITUTIONS_MAX 2
#define HOTLIST_TEXT_MAX 255		/* case, reason, description, source */

enum hotlist_category {
	HOTLIST_CAT_NONE = 0,
	HOTLIST_CAT_FELONY_VEHICLE,
	HOTLIST_CAT_WANTED,		/* person-associated */
	HOTLIST_CAT_MISSING,		/* person-associated */
	HOTLIST_CAT_STOLEN_VEHICLE,
	HOTLIST_CAT_STOLEN_PLATE,
	HOTLIST_CAT_BOLO,
	HOTLIST_CAT_INVESTIGATION,	/* manual entries */
	HOTLIST_CAT_IMMIGRATION,	/* never loaded: policy IV.C.4 */
	_HOTLIST_CAT_MAX
};

enum hotlist_format {
	HOTLIST_FMT_CADOJ_SVS,		/* CA DOJ stolen vehicle system */
	HOTLIST_FMT_CADOJ_SLR,		/* CA DOJ stolen license plates */
	HOTLIST_FMT_CADOJ_SFR,		/* CA DOJ felony (wanted) vehicles */
	HOTLIST_FMT_NCIC,		/* NCIC-style fixed-width extract */
	HOTLIST_FMT_DELIMITED,		/* ; , or tab, header or column map */
	_HOTLIST_FMT_MAX
};

#define HOTLIST_F_PERSON 0x01	/* hit concerns a person (R6 reminder) */
#define HOTLIST_F_WILDCARD 0x02	/* plate is a '?'/'*' pattern */

/*
 * One entry as parsed or loaded.  Strings are owned by the list they came
 * from (interned: a 5-million-entry list repeats its sources and vehicle
 * descriptions).  Times are realtime µs; 0 means "none".
 */
struct hotlist_entry {
	int64_t id;		/* store's id; 0 until stored */
	int64_t effective_usec;
	int64_t expiry_usec;	/* 0: no expiry; never hits at or after it */
	const char *source;	/* "cadoj-svs", "ncic", "bolo", "manual", ... */
	const char *case_no;
	const char *reason;
	const char *description;	/* vehicle only */
	uint32_t line;		/* line of the source file, 0 if none */
	char plate[HOTLIST_PATTERN_MAX + 1];
	char state[3];		/* "" when the list does not say */
	uint8_t category;	/* enum hotlist_category */
	uint8_t priority;	/* 1..100, larger is more urgent */
	uint8_t flags;		/* HOTLIST_F_* */
};

/* A parsed list: entries plus their provenance. */
struct hotlist {
	struct hotlist_entry *entries;
	size_t n_entries;
	size_t n_records;	/* data records read (good, bad and excluded) */
	size_t n_skipped;	/* bad records skipped under skip_bad */
	size_t n_excluded;	/* immigration entries refused (R4) */
	size_t n_person_fields;	/* person-data columns dropped (delimited) */
	int64_t source_usec;	/* date the source gives (CA DOJ header), or 0 */
	uint8_t sha256[32];	/* of the file's bytes as read */
	char sha256_hex[65];
	int format;		/* enum hotlist_format */
	char *source;		/* list source name */
	char *file_name;	/* base name of the file */
	struct hotlist_pool *pool;
	size_t alloc;
};

/* NCIC list code (first character of the NIC) -> category, from config. */
struct hotlist_codes {
	uint8_t category[128];	/* HOTLIST_CAT_NONE: code not accepted */
};

/* "V=stolen-vehicle,L=stolen-plate,..." -> codes; -EINVAL on a bad text. */
int hotlist_codes_parse(const char *text, struct hotlist_codes *ret);
#define HOTLIST_CODES_DEFAULT \
	"V=stolen-vehicle,L=stolen-plate,W=wanted,M=missing,F=felony-vehicle,B=bolo,I=immigration"

/* Column names of the delimited format, in the order of a column map. */
enum hotlist_column {
	HOTLIST_COL_IGNORE = 0,
	HOTLIST_COL_PLATE,
	HOTLIST_COL_STATE,
	HOTLIST_COL_CATEGORY,
	HOTLIST_COL_PRIORITY,
	HOTLIST_COL_EFFECTIVE,
	HOTLIST_COL_EXPIRY,
	HOTLIST_COL_CASE,
	HOTLIST_COL_REASON,
	HOTLIST_COL_DESCRIPTION,
	HOTLIST_COL_SOURCE,
	HOTLIST_COL_PERSON,
	HOTLIST_COL_FREE,	/* kept as "name=value" in the description */
	HOTLIST_COL_PERSON_DATA,	/* name, date of birth...: dropped unread */
	_HOTLIST_COL_MAX
};

struct hotlist_parse_opts {
	int format;			/* enum hotlist_format */
	const char *source;		/* NULL: the format's default */
	bool skip_bad;			/* skip and list bad records */
	const struct hotlist_codes *codes;	/* NCIC; NULL: the defaults */
	char delimiter;			/* delimited: 0 = detect from the header */
	const char *columns;		/* delimited: "plate,state,-,category";
					 * NULL: the first line is a header */
	int default_category;		/* delimited: when no category column */
	const char *display_name;	/* name used in messages; NULL: path */
	/*
	 * When set, each good entry goes to on_entry instead of into the
	 * list (list->n_entries still counts them), so an importer can stream
	 * five million entries into the store without holding them.  Its
	 * strings live until on_entry returns.  A negative return stops the
	 * parse with that error; the caller then discards what it received.
	 */
	int (*on_entry)(const struct hotlist_entry *e, void *userdata);
	void *userdata;
};

/*
 * Parse a whole file.  All or nothing: on the first bad record (unless
 * opts->skip_bad) returns -EINVAL with *ret_error "file:line:column: what"
 * and no list.  With skip_bad, bad records are left out and each one is
 * described, one a line, in *ret_report; a bad header or trailer still
 * fails the file.  ret_error/ret_report may be NULL; the caller frees them.
 */
int hotlist_parse_file(const char *path, const struct hotlist_parse_opts *opts,
    struct hotlist **ret, char **ret_error, char **ret_report);
/* The same on bytes in memory (tests, fuzzing); name is used in messages. */
int hotlist_parse_buffer(const char *name, const char *buf, size_t len,
    const struct hotlist_parse_opts *opts, struct hotlist **ret, char **ret_error,
    char **ret_report);

/* An empty list (manual entries, loading from the store). */
int hotlist_new(const char *source, struct hotlist **ret);
void hotlist_free(struct hotlist *list);
/* Copies e (its strings into the list's pool); checks it as a parser would. */
int hotlist_add(struct hotlist *list, const struct hotlist_entry *e);

/*
 * Against the previous version: entries are the same when plate, state,
 * category, case and expiry are.  Same plate with another state is
 * another entry.
 */
int hotlist_diff(const struct hotlist *prev, const struct hotlist *next, size_t *ret_added,
    size_t *ret_removed, size_t *ret_unchanged);

/* Names and checks shared with alprctl and the store. */
const char *hotlist_category_name(int category);
int hotlist_category_from_name(const char *name);	/* -EINVAL if unknown */
bool hotlist_category_is_prohibited(int category);
bool hotlist_text_is_prohibited(const char *category_text);
int hotlist_default_priority(int category, const char *source);
const char *hotlist_format_name(int format);
/* The list source a format's lists get when the import names none. */
const char *hotlist_format_source(int format);
int hotlist_format_from_name(const char *name);
bool hotlist_state_valid(const char *state);
/*
 * Upper-case, drop spaces and dashes; 1..10 of A-Z0-9, or a pattern with
 * '?'/'*' and at least two literals when allow_wildcard.  Returns 0,
 * 1 when the result is a pattern, or -EINVAL.
 */
int hotlist_plate_normalize(const char *in, bool allow_wildcard, char out[HOTLIST_PATTERN_MAX + 1]);

/* ------------------------------------------------------------------ */
/* The index (alpr-matchd). */

enum hotlist_match_type { HOTLIST_MATCH_EXACT, HOTLIST_MATCH_OCR, HOTLIST_MATCH_WILDCARD };
enum hotlist_state_check { HOTLIST_STATE_MATCH, HOTLIST_STATE_MISMATCH, HOTLIST_STATE_UNVERIFIED };

/*
 * OCR equivalence: characters in one class may stand for each other.
 * Text form "0ODQ,8B,5S,2Z,1I,6G": classes separated by ',' or ' '.
 */
#define HOTLIST_CLASSES_DEFAULT "0ODQ,8B,5S,2Z,1I,6G"
struct hotlist_index_opts {
	const char *classes;		/* NULL: the default */
	int max_substitutions;		/* 0..2 */
};

struct hotlist_index;

struct hotlist_index_stats {
	size_t n_entries;
	size_t n_wildcards;
	size_t n_refused;		/* prohibited categories not loaded */
	size_t bytes;			/* memory the index holds */
};

int hotlist_index_new(const struct hotlist_index_opts *opts, struct hotlist_index **ret);
void hotlist_index_free(struct hotlist_index *idx);
/*
 * Add before hotlist_index_finish().  Only plate, state, category,
 * priority, flags, effective, expiry, id and source are kept; the rest of
 * an entry comes from the store when a hit is raised.  tag is the
 * caller's (e.g. a list version id) and comes back in hits.  A prohibited
 * category is refused with -EPERM and counted.
 */
int hotlist_index_add(struct hotlist_index *idx, const struct hotlist_entry *e, uint32_t tag);
/* Room for n entries in all (the loader knows the count): one allocation. */
int hotlist_index_reserve(struct hotlist_index *idx, size_t n);
int hotlist_index_add_list(struct hotlist_index *idx, const struct hotlist *list, uint32_t tag);
/* Builds the lookup structures; the index is read-only afterwards. */
int hotlist_index_finish(struct hotlist_index *idx);
void hotlist_index_get_stats(const struct hotlist_index *idx, struct hotlist_index_stats *ret);

struct hotlist_read {
	const char *plates[HOTLIST_CANDIDATES_MAX];	/* [0] is the top-1 */
	size_t n_plates;
	const char *state;		/* NULL or "": not known */
	int64_t now_usec;		/* capture time: expiry is judged at it */
};

struct hotlist_hit {
	int64_t entry_id;
	uint32_t tag;
	uint32_t entry;			/* position in the index, for _entry() */
	uint8_t type;			/* enum hotlist_match_type */
	uint8_t state_check;		/* enum hotlist_state_check */
	uint8_t candidate;		/* which of read->plates matched */
	uint8_t n_differs;
	uint8_t differs[HOTLIST_PATTERN_MAX];	/* positions in the read plate */
	uint8_t category;
	uint8_t priority;
	uint8_t flags;
};

/*
 * Every entry the read matches, one hit per entry (the best way it
 * matched over the candidates), most urgent first.  Returns the number of
 * hits (at most max_hits; more are dropped, least urgent first) or
 * -errno.  Reentrant on a finished index.
 */
int hotlist_index_match(const struct hotlist_index *idx, const struct hotlist_read *read,
    struct hotlist_hit *hits, size_t max_hits);
/* The entry behind a hit: plate or pattern, state, source. */
int hotlist_index_entry(const struct hotlist_index *idx, uint32_t entry, char plate[HOTLIST_PATTERN_MAX + 1],
    char state[3], const char **ret_source);

const char *hotlist_match_type_name(int type);
const char *hotlist_state_check_name(int check);

/* ------------------------------------------------------------------ */
/* Alert suppression (AlertCooldownSec): one alert per plate and entry. */

struct hotlist_cooldown;

/* capacity: plate+entry pairs remembered at once (older ones are reused). */
int hotlist_cooldown_new(size_t capacity, int64_t cooldown_usec, struct hotlist_cooldown **ret);
void hotlist_cooldown_free(struct hotlist_cooldown *c);
void hotlist_cooldown_set(struct hotlist_cooldown *c, int64_t cooldown_usec);
/*
 * True when a hit of plate (the text that matched: the read's or one of
 * its candidates) on entry_id at now_usec should alert (and starts its
 * cool-down), false when one alerted within the cool-down.
 * The same now_usec again is the same read checked again: true.
 */
bool hotlist_cooldown_check(struct hotlist_cooldown *c, const char *plate, int64_t entry_id,
    int64_t now_usec);

#endif
