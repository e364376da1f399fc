/*
 * The hot-list index alpr-matchd matches every read against.
 *
 * Runs in alpr-matchd.  Its input is entries the store already checked,
 * and reads from alpr-ocrd (plates normalised here again, since a read
 * is only as good as the recognizer that produced it).
 *
 * Layout, chosen for millions of entries (no allocation per entry):
 *  - recs: one 40-byte record per entry, in one array.
 *  - buckets: a power-of-two table of chain heads over the *canonical*
 *    form of each plain plate, i.e. the plate with every character
 *    replaced by the first character of its OCR-equivalence class
 *    ("8OS" and "BQ5" are both "806").  Exact and OCR-equivalence matches
 *    are one lookup each: walk the chain, keep records whose canonical
 *    form equals the read's, then count the positions where the actual
 *    characters differ: 0 is exact, 1..max_substitutions is an OCR match,
 *    more is no match.
 *  - wildcard patterns: each is filed under one gram (3, 2 or 1 canonical
 *    literal characters in a row) chosen as the rarest its literals offer;
 *    a read looks up the grams it contains and checks only the patterns
 *    filed there, so ten thousand patterns cost a handful of checks per
 *    read, not ten thousand.
 * Times are kept as unsigned seconds (good to 2106) to keep records small.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "hotlist/hotlist.h"
#include "hotlist/internal.h"

#define NONE UINT32_MAX
#define SOURCES_MAX 255
#define RAW_HITS_MAX 1024
#define PREFETCH_AHEAD 16	/* records hashed ahead while the index is built */
#define ALPHA 37		/* gram alphabet: 0 unused, 1..36 the characters */

struct rec {
	int64_t entry_id;
	uint32_t effective;	/* seconds, 0: none */
	uint32_t expiry;	/* seconds, 0: none */
	uint32_t next;		/* chain of the bucket; for a pattern, its index in wild */
	uint32_t tag;
	char plate[HOTLIST_PLATE_MAX];	/* NUL-padded; unused for a pattern */
	char state[2];		/* zeros: not known */
	uint8_t category;
	uint8_t priority;
	uint8_t flags;
	uint8_t source;		/* index into sources */
};

struct wild {
	uint32_t rec;
	char pat[HOTLIST_PATTERN_MAX + 1];	/* as given */
	char canon[HOTLIST_PATTERN_MAX + 1];	/* classes folded, '?' and '*' kept */
};

/* A gram table in compressed-row form: items[start[g]..start[g+1]). */
struct grams {
	uint32_t *start;
	uint32_t *items;
	size_t n_grams;
};

struct hotlist_index {
	char canon[256];	/* class representative, 0 if not A-Z0-9 */
	char ident[256];	/* c -> c: exact comparison through the same code */
	uint8_t code[256];	/* canonical char -> 1..36 */
	int max_subs;
	bool finished;

	struct rec *recs;
	size_t n_recs, alloc_recs;
	uint32_t *buckets;
	size_t mask;

	struct wild *wild;
	size_t n_wild, alloc_wild;
	struct grams g[3];	/* by gram length - 1 */

	char *sources[SOURCES_MAX];
	size_t n_sources;
	const char *last_source_ptr;	/* caller's pointer, compared only */
	int last_source;
	size_t n_refused;
};

static int
set_classes(struct hotlist_index *x, const char *text)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	bool seen[256] = { false };
	const char *p;
	char rep = 0;
	size_t i;

	for (i = 0; alnum[i]; i++)
		x->canon[(unsigned char)alnum[i]] = alnum[i];
	for (i = 0; i < 256; i++)
		x->ident[i] = (char)i;
	/* Each class: its first character stands for all of them. */
	for (p = text; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == ',' || ch == ' ' || ch == '/') {
			rep = 0;
			continue;
		}
		if (!x->canon[ch] || seen[ch])
			return -EINVAL;	/* not A-Z0-9 (lower case too), or in two classes */
		seen[ch] = true;
		if (!rep)
			rep = (char)ch;
		x->canon[ch] = rep;
	}
	for (i = 0; alnum[i]; i++)
		x->code[(unsigned char)x->canon[(unsigned char)alnum[i]]] = (uint8_t)(i + 1);
	return 0;
}

int
hotlist_index_new(const struct hotlist_index_opts *opts, struct hotlist_index **ret)
{
	struct hotlist_index *x;
	int r;

	if (opts && (opts->max_substitutions < 0 ||
	    opts->max_substitutions > HOTLIST_SUBSTITUTIONS_MAX))
		return -EINVAL;
	if (!(x = calloc(1, sizeof(*x))))
		return -ENOMEM;
	if ((r = set_classes(x, opts && opts->classes ? opts->classes :
	    HOTLIST_CLASSES_DEFAULT)) < 0) {
		free(x);
		return r;
	}
	x->max_subs = opts ? opts->max_substitutions : 1;
	*ret = x;
	return 0;
}

void
hotlist_index_free(struct hotlist_index *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->n_sources; i++)
		free(x->sources[i]);
	for (i = 0; i < 3; i++) {
		free(x->g[i].start);
		free(x->g[i].items);
	}
	free(x->recs);
	free(x->buckets);
	free(x->wild);
	free(x);
}

static int
source_id(struct hotlist_index *x, const char *s)
{
	size_t i;

	if (!s)
		s = "";
	/* Few distinct sources, and loaders pass the same pointers again. */
	if (s == x->last_source_ptr)
		return x->last_source;
	for (i = 0; i < x->n_sources; i++)
		if (strcmp(x->sources[i], s) == 0)
			break;
	if (i < x->n_sources) {
		x->last_source_ptr = s;
		x->last_source = (int)i;
		return (int)i;
	}
	if (x->n_sources == SOURCES_MAX)
		return -E2BIG;
	if (!(x->sources[x->n_sources] = strdup(s)))
		return -ENOMEM;
	return (int)x->n_sources++;
}

static uint32_t
usec_to_sec(int64_t usec)
{
	int64_t s = usec / USEC_PER_SEC;

	if (s <= 0)
		return 0;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static int
grow(void **v, size_t *alloc, size_t need, size_t size)
{
	size_t n = *alloc ? *alloc : 1024;
	void *p;

	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	if (!(p = realloc(*v, n * size)))
		return -ENOMEM;
	hotlist_advise_huge(p, n * size);
	*v = p;
	*alloc = n;
	return 0;
}

int
hotlist_index_reserve(struct hotlist_index *x, size_t n)
{
	struct rec *p;

	if (x->finished)
		return -EBUSY;
	if (n <= x->alloc_recs)
		return 0;
	if (!(p = realloc(x->recs, n * sizeof(*p))))
		return -ENOMEM;
	hotlist_advise_huge(p, n * sizeof(*p));
	x->recs = p;
	x->alloc_recs = n;
	return 0;
}

int
hotlist_index_add(struct hotlist_index *x, const struct hotlist_entry *e, uint32_t tag)
{
	char plate[HOTLIST_PATTERN_MAX + 1];
	struct rec *rec;
	int wild, src, r;
	size_t i;

	if (x->finished)
		return -EBUSY;
	if (e->category <= HOTLIST_CAT_NONE || e->category >= _HOTLIST_CAT_MAX)
		return -EINVAL;
	/* Policy IV.C.4: even if the store held one, it is never matched. */
	if (hotlist_category_is_prohibited(e->category)) {
		x->n_refused++;
		return -EPERM;
	}
	if ((wild = hotlist_plate_normalize(e->plate, true, plate)) < 0)
		return wild;
	if (e->state[0] && !hotlist_state_valid(e->state))
		return -EINVAL;
	if (x->n_recs >= NONE - 1)
		return -E2BIG;
	if ((src = source_id(x, e->source)) < 0)
		return src;
	if ((r = grow((void **)&x->recs, &x->alloc_recs, x->n_recs + 1, sizeof(*x->recs))) < 0)
		return r;
	rec = &x->recs[x->n_recs];
	memset(rec, 0, sizeof(*rec));
	rec->entry_id = e->id;
	rec->effective = usec_to_sec(e->effective_usec);
	rec->expiry = e->expiry_usec ? usec_to_sec(e->expiry_usec) : 0;
	if (e->expiry_usec && rec->expiry == 0)
		rec->expiry = 1;	/* expired before 1970: still expired */
	rec->tag = tag;
	rec->state[0] = e->state[0];
	rec->state[1] = e->state[0] ? e->state[1] : 0;
	rec->category = e->category;
	rec->priority = e->priority ? e->priority :
	    (uint8_t)hotlist_default_priority(e->category, e->source);
	rec->flags = (uint8_t)((e->flags & HOTLIST_F_PERSON) | (wild ? HOTLIST_F_WILDCARD : 0));
	rec->source = (uint8_t)src;
	rec->next = NONE;
	if (wild) {
		struct wild *w;

		if ((r = grow((void **)&x->wild, &x->alloc_wild, x->n_wild + 1,
		    sizeof(*x->wild))) < 0)
			return r;
		w = &x->wild[x->n_wild];
		memset(w, 0, sizeof(*w));
		w->rec = (uint32_t)x->n_recs;
		memcpy(w->pat, plate, sizeof(w->pat));
		for (i = 0; plate[i]; i++)
			w->canon[i] = x->canon[(unsigned char)plate[i]] ? x->canon[(unsigned char)plate[i]]
			    : plate[i];
		rec->next = (uint32_t)x->n_wild++;
	} else
		memcpy(rec->plate, plate, strlen(plate));
	x->n_recs++;
	return 0;
}

int
hotlist_index_add_list(struct hotlist_index *x, const struct hotlist *l, uint32_t tag)
{
	size_t i;
	int r;

	if ((r = hotlist_index_reserve(x, x->n_recs + l->n_entries)) < 0)
		return r;
	for (i = 0; i < l->n_entries; i++)
		if ((r = hotlist_index_add(x, &l->entries[i], tag)) < 0 && r != -EPERM)
			return r;
	return 0;
}

/* Canonical form of n characters at p into out; false if one is not A-Z0-9. */
static inline bool
canonicalize(const struct hotlist_index *x, const char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(out[i] = x->canon[(unsigned char)p[i]]))
			return false;
	return true;
}

static inline uint64_t
plate_hash(const char *canon, size_t n)
{
	uint64_t a = 0, b = 0;

	memcpy(&a, canon, n > 8 ? 8 : n);
	if (n > 8)
		memcpy(&b, canon + 8, n - 8);
	a ^= (b + n) * UINT64_C(0x9e3779b97f4a7c15);
	a ^= a >> 32;
	a *= UINT64_C(0xd6e8feb86659fd93);
	a ^= a >> 32;
	a *= UINT64_C(0xd6e8feb86659fd93);
	a ^= a >> 32;
	return a;
}

static inline size_t
rec_len(const struct rec *r)
{
	size_t n = 0;

	while (n < HOTLIST_PLATE_MAX && r->plate[n])
		n++;
	return n;
}

static inline uint32_t
gram_of(const struct hotlist_index *x, const char *canon, size_t len)
{
	uint32_t g = 0;
	size_t i;

	for (i = 0; i < len; i++)
		g = g * ALPHA + x->code[(unsigned char)canon[i]];
	return g;
}

/*
 * File each pattern under its rarest gram: the longest grams its literal
 * runs offer (3, else 2, else 1), and among those the one fewest
 * patterns share (counted over all patterns first).
 */
static int
build_grams(struct hotlist_index *x)
{
	static const size_t sizes[3] = { ALPHA, ALPHA * ALPHA, ALPHA * ALPHA * ALPHA };
	uint32_t *count[3] = { NULL }, *key = NULL;
	uint8_t *klen = NULL;
	size_t i, j, k, len;
	int r = -ENOMEM;

	for (k = 0; k < 3; k++) {
		x->g[k].n_grams = sizes[k];
		if (!(count[k] = calloc(sizes[k], sizeof(uint32_t))) ||
		    !(x->g[k].start = calloc(sizes[k] + 1, sizeof(uint32_t))))
			goto out;
	}
	if (x->n_wild && (!(key = malloc(x->n_wild * sizeof(*key))) ||
	    !(klen = malloc(x->n_wild))))
		goto out;
	/* Pass 1: how many patterns offer each gram. */
	for (i = 0; i < x->n_wild; i++) {
		const char *c = x->wild[i].canon;

		len = strlen(c);
		for (j = 0; j < len; j++)
			for (k = 0; k < 3 && j + k < len && c[j + k] != '?' && c[j + k] != '*'; k++)
				count[k][gram_of(x, c + j, k + 1)]++;
	}
	/* Pass 2: pick per pattern. */
	for (i = 0; i < x->n_wild; i++) {
		const char *c = x->wild[i].canon;
		uint32_t best = NONE, best_count = NONE, g;
		int best_k = -1;

		len = strlen(c);
		for (j = 0; j < len; j++) {
			for (k = 0; k < 3 && j + k < len && c[j + k] != '?' && c[j + k] != '*'; k++) {
				g = gram_of(x, c + j, k + 1);
				if ((int)k > best_k || ((int)k == best_k && count[k][g] < best_count)) {
					best_k = (int)k;
					best = g;
					best_count = count[k][g];
				}
			}
		}
		if (best_k < 0) {
			r = -EINVAL;	/* no literal: hotlist_plate_normalize refuses it */
			goto out;
		}
		key[i] = best;
		klen[i] = (uint8_t)best_k;
		x->g[best_k].start[best + 1]++;
	}
	for (k = 0; k < 3; k++) {
		for (j = 0; j < sizes[k]; j++)
			x->g[k].start[j + 1] += x->g[k].start[j];
		if (!(x->g[k].items = malloc((x->g[k].start[sizes[k]] + 1) * sizeof(uint32_t))))
			goto out;
		memset(count[k], 0, sizes[k] * sizeof(uint32_t));
	}
	for (i = 0; i < x->n_wild; i++) {
		k = klen[i];
		x->g[k].items[x->g[k].start[key[i]] + count[k][key[i]]++] = (uint32_t)i;
	}
	r = 0;
out:
	for (k = 0; k < 3; k++)
		free(count[k]);
	free(key);
	free(klen);
	return r;
}

int
hotlist_index_finish(struct hotlist_index *x)
{
	char canon[HOTLIST_PLATE_MAX];
	size_t n = 16, i, len;
	uint64_t h;
	int r;

	if (x->finished)
		return -EBUSY;
	while (n < x->n_recs + x->n_recs / 4)
		n *= 2;
	if (!(x->buckets = malloc(n * sizeof(*x->buckets))))
		return -ENOMEM;
	hotlist_advise_huge(x->buckets, n * sizeof(*x->buckets));
	memset(x->buckets, 0xff, n * sizeof(*x->buckets));
	x->mask = n - 1;
	/*
	 * Each record goes to the head of a random bucket: a cache miss per
	 * entry.  Hashes are computed PREFETCH_AHEAD records ahead (into
	 * next, overwritten when the record is linked) and their buckets
	 * prefetched, so the misses overlap.
	 */
	for (i = 0; i < x->n_recs + PREFETCH_AHEAD; i++) {
		if (i < x->n_recs) {
			struct rec *ahead = &x->recs[i];

			if (!(ahead->flags & HOTLIST_F_WILDCARD)) {
				len = rec_len(ahead);
				canonicalize(x, ahead->plate, len, canon);
				h = plate_hash(canon, len) & x->mask;
				ahead->next = (uint32_t)h;
				__builtin_prefetch(&x->buckets[h], 1);
			}
		}
		if (i >= PREFETCH_AHEAD) {
			struct rec *rec = &x->recs[i - PREFETCH_AHEAD];

			if (rec->flags & HOTLIST_F_WILDCARD)
				continue;
			h = rec->next;
			rec->next = x->buckets[h];
			x->buckets[h] = (uint32_t)(i - PREFETCH_AHEAD);
		}
	}
	if ((r = build_grams(x)) < 0)
		return r;
	x->finished = true;
	return 0;
}

void
hotlist_index_get_stats(const struct hotlist_index *x, struct hotlist_index_stats *ret)
{
	size_t k;

	ret->n_entries = x->n_recs;
	ret->n_wildcards = x->n_wild;
	ret->n_refused = x->n_refused;
	ret->bytes = sizeof(*x) + x->alloc_recs * sizeof(*x->recs) + x->alloc_wild *
	    sizeof(*x->wild) + (x->buckets ? (x->mask + 1) * sizeof(uint32_t) : 0);
	for (k = 0; k < 3; k++)
		if (x->g[k].start)
			ret->bytes += (x->g[k].n_grams + 1 + x->g[k].start[x->g[k].n_grams] + 1) *
			    sizeof(uint32_t);
}

/* ---- matching ------------------------------------------------------- */

struct query {
	const struct hotlist_index *x;
	uint32_t now;
	struct hotlist_hit *raw;
	size_t n_raw;
	const char *state;	/* NULL: unknown */
};

static bool
live(const struct query *q, const struct rec *r)
{
	if (r->effective && q->now < r->effective)
		return false;
	if (r->expiry && q->now >= r->expiry)
		return false;
	return true;
}

static int
type_rank(const struct hotlist_hit *h)
{
	return h->type * 16 + h->n_differs;
}

/* Keep one hit per entry: the best way any candidate matched it. */
static void
add_hit(struct query *q, uint32_t rec, int type, size_t candidate, const uint8_t *differs,
    size_t n_differs)
{
	const struct rec *r = &q->x->recs[rec];
	struct hotlist_hit h = { 0 }, *o;
	size_t i;

	h.entry_id = r->entry_id;
	h.tag = r->tag;
	h.entry = rec;
	h.type = (uint8_t)type;
	h.candidate = (uint8_t)candidate;
	h.n_differs = (uint8_t)n_differs;
	memcpy(h.differs, differs, n_differs);
	h.category = r->category;
	h.priority = r->priority;
	h.flags = r->flags;
	if (!q->state || !r->state[0])
		h.state_check = HOTLIST_STATE_UNVERIFIED;
	else if (q->state[0] == r->state[0] && q->state[1] == r->state[1])
		h.state_check = HOTLIST_STATE_MATCH;
	else
		h.state_check = HOTLIST_STATE_MISMATCH;
	for (i = 0; i < q->n_raw; i++) {
		o = &q->raw[i];
		if (o->entry != rec)
			continue;
		if (type_rank(&h) < type_rank(o) ||
		    (type_rank(&h) == type_rank(o) && h.candidate < o->candidate))
			*o = h;
		return;
	}
	if (q->n_raw < RAW_HITS_MAX)
		q->raw[q->n_raw++] = h;
}

static void
match_plain(struct query *q, uint32_t head, const char *plate, const char *canon, size_t len,
    size_t cand)
{
	const struct hotlist_index *x = q->x;
	uint8_t differs[HOTLIST_PLATE_MAX];
	uint32_t i;
	size_t k, nd;

	for (i = head; i != NONE; i = x->recs[i].next) {
		const struct rec *r = &x->recs[i];

		if (rec_len(r) != len)
			continue;
		for (k = 0, nd = 0; k < len; k++) {
			if (x->canon[(unsigned char)r->plate[k]] != canon[k])
				break;
			if (r->plate[k] != plate[k])
				differs[nd++] = (uint8_t)k;
		}
		if (k < len || nd > (size_t)x->max_subs || !live(q, r))
			continue;
		add_hit(q, i, nd ? HOTLIST_MATCH_OCR : HOTLIST_MATCH_EXACT, cand, differs, nd);
	}
}

/*
 * Glob of pattern p over s ('?' one character, '*' any run, in order),
 * comparing through map (identity or the classes).  On success pos[i] is
 * the position in s that pattern character i matched.
 */
static bool
glob(const char *p, const char *s, size_t n, const char *map, uint8_t *pos)
{
	size_t pi = 0, si = 0, m = strlen(p), star = NONE, mark = 0;

	while (si < n) {
		if (pi < m && p[pi] != '*' && (p[pi] == '?' ||
		    map[(unsigned char)p[pi]] == map[(unsigned char)s[si]])) {
			pos[pi++] = (uint8_t)si++;
		} else if (pi < m && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (star != NONE) {
			pi = star + 1;
			si = ++mark;
		} else
			return false;
	}
	while (pi < m && p[pi] == '*')
		pi++;
	return pi == m;
}

static void
check_wild(struct query *q, uint32_t wi, const char *plate, size_t len, size_t cand)
{
	const struct hotlist_index *x = q->x;
	const struct wild *w = &x->wild[wi];
	const struct rec *r = &x->recs[w->rec];
	uint8_t pos[HOTLIST_PATTERN_MAX], differs[HOTLIST_PATTERN_MAX];
	size_t i, nd = 0;

	if (!live(q, r))
		return;
	if (glob(w->pat, plate, len, x->ident, pos)) {
		add_hit(q, w->rec, HOTLIST_MATCH_WILDCARD, cand, differs, 0);
		return;
	}
	if (x->max_subs == 0 || !glob(w->pat, plate, len, x->canon, pos))
		return;
	for (i = 0; w->pat[i]; i++)
		if (w->pat[i] != '?' && w->pat[i] != '*' && w->pat[i] != plate[pos[i]])
			differs[nd++] = pos[i];
	if (nd <= (size_t)x->max_subs)
		add_hit(q, w->rec, HOTLIST_MATCH_WILDCARD, cand, differs, nd);
}

static void
match_wild(struct query *q, const char *plate, const char *canon, size_t len, size_t cand)
{
	const struct hotlist_index *x = q->x;
	size_t k, i;
	uint32_t g, j;

	for (k = 0; k < 3; k++) {
		const struct grams *t = &x->g[k];

		if (t->start[t->n_grams] == 0)
			continue;	/* no pattern filed under grams of this length */
		for (i = 0; i + k < len; i++) {
			g = gram_of(x, canon + i, k + 1);
			for (j = t->start[g]; j < t->start[g + 1]; j++)
				check_wild(q, t->items[j], plate, len, cand);
		}
	}
}

static int
hit_cmp(const void *a, const void *b)
{
	const struct hotlist_hit *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (type_rank(x) != type_rank(y))
		return type_rank(x) - type_rank(y);
	if (x->state_check != y->state_check)
		return x->state_check - y->state_check;
	if (x->candidate != y->candidate)
		return x->candidate - y->candidate;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

int
hotlist_index_match(const struct hotlist_index *x, const struct hotlist_read *read,
    struct hotlist_hit *hits, size_t max_hits)
{
	struct hotlist_hit raw[RAW_HITS_MAX];
	struct query q = { .x = x, .raw = raw };
	struct cand {
		char plate[HOTLIST_PATTERN_MAX + 1];
		char canon[HOTLIST_PATTERN_MAX + 1];
		size_t len;
		uint32_t head;	/* bucket, then the chain's first record */
	} cands[HOTLIST_CANDIDATES_MAX];
	size_t c, n;

	if (!x->finished)
		return -EBUSY;
	if (read->n_plates > HOTLIST_CANDIDATES_MAX)
		return -EINVAL;
	q.now = usec_to_sec(read->now_usec);
	if (read->state && hotlist_state_valid(read->state))
		q.state = read->state;
	/*
	 * Three passes so the memory stalls overlap: hash every candidate and
	 * prefetch its bucket, then read the heads and prefetch the records,
	 * then compare.  With millions of entries each lookup is a cache miss.
	 */
	for (c = 0; c < read->n_plates; c++) {
		struct cand *k = &cands[c];

		/* A candidate that is not a plate cannot match; the others still may. */
		k->len = 0;
		if (!read->plates[c] || hotlist_plate_normalize(read->plates[c], false, k->plate) != 0)
			continue;
		k->len = strlen(k->plate);
		canonicalize(x, k->plate, k->len, k->canon);
		k->head = (uint32_t)(plate_hash(k->canon, k->len) & x->mask);
		__builtin_prefetch(&x->buckets[k->head]);
	}
	for (c = 0; c < read->n_plates; c++) {
		struct cand *k = &cands[c];

		if (!k->len)
			continue;
		k->head = x->buckets[k->head];
		if (k->head != NONE)
			__builtin_prefetch(&x->recs[k->head]);
	}
	for (c = 0; c < read->n_plates; c++) {
		struct cand *k = &cands[c];

		if (!k->len)
			continue;
		match_plain(&q, k->head, k->plate, k->canon, k->len, c);
		if (x->n_wild)
			match_wild(&q, k->plate, k->canon, k->len, c);
	}
	qsort(raw, q.n_raw, sizeof(raw[0]), hit_cmp);
	n = q.n_raw < max_hits ? q.n_raw : max_hits;
	memcpy(hits, raw, n * sizeof(*hits));
	return (int)n;
}

int
hotlist_index_entry(const struct hotlist_index *x, uint32_t entry,
    char plate[HOTLIST_PATTERN_MAX + 1], char state[3], const char **ret_source)
{
	const struct rec *r;

	if (entry >= x->n_recs)
		return -ENOENT;
	r = &x->recs[entry];
	if (plate) {
		if (r->flags & HOTLIST_F_WILDCARD)
			memcpy(plate, x->wild[r->next].pat, HOTLIST_PATTERN_MAX + 1);
		else {
			memcpy(plate, r->plate, HOTLIST_PLATE_MAX);
			plate[HOTLIST_PLATE_MAX] = '\0';
		}
	}
	if (state) {
		state[0] = r->state[0];
		state[1] = r->state[1];
		state[2] = '\0';
	}
	if (ret_source)
		*ret_source = x->sources[r->source];
	return 0;
}

const char *
hotlist_match_type_name(int type)
{
	switch (type) {
	case HOTLIST_MATCH_EXACT:
		return "exact";
	case HOTLIST_MATCH_OCR:
		return "ocr";
	case HOTLIST_MATCH_WILDCARD:
		return "wildcard";
	}
	return "invalid";
}

const char *
hotlist_state_check_name(int check)
{
	switch (check) {
	case HOTLIST_STATE_MATCH:
		return "match";
	case HOTLIST_STATE_MISMATCH:
		return "mismatch";
	case HOTLIST_STATE_UNVERIFIED:
		return "unverified";
	}
	return "invalid";
}
