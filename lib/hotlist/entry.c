/*
 * Hot-list entries: the list container, its string pool, and the names
 * and checks every format shares (categories, states, plates, the
 * immigration-enforcement refusal).  Runs in alprctl and alpr-matchd;
 * trusts nothing it is given.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hotlist/hotlist.h"
#include "hotlist/internal.h"

/* ---- string pool ------------------------------------------------------
 * Strings live in 1 MiB chunks that never move, so entries can keep plain
 * pointers; an open-addressing table finds an equal string already
 * stored.  A list of five million entries has a few thousand distinct
 * sources, reasons and vehicle descriptions. */

#define POOL_CHUNK (1u << 20)

struct pool_chunk {
	struct pool_chunk *next;
	size_t used;
	char data[];
};

struct pool_slot {
	const char *s;		/* NULL: free */
	uint32_t hash;
	uint32_t len;
};

struct hotlist_pool {
	struct pool_chunk *chunks;
	struct pool_slot *slots;
	size_t n_slots;		/* power of two */
	size_t n_used;
};

uint64_t
hotlist_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	/* FNV-1a, then a final mix so low bits spread for power-of-two tables. */
	while (n--) {
		h ^= *s++;
		h *= UINT64_C(0x100000001b3);
	}
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

struct hotlist_pool *
hotlist_pool_new(void)
{
	struct hotlist_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->n_slots = 1024;
	p->slots = calloc(p->n_slots, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return NULL;
	}
	return p;
}

void
hotlist_pool_free(struct hotlist_pool *p)
{
	struct pool_chunk *c, *next;

	if (!p)
		return;
	for (c = p->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(p->slots);
	free(p);
}

static int
pool_grow(struct hotlist_pool *p)
{
	size_t n = p->n_slots * 2, i, j;
	struct pool_slot *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < p->n_slots; i++) {
		if (!p->slots[i].s)
			continue;
		for (j = p->slots[i].hash & (n - 1); slots[j].s; j = (j + 1) & (n - 1))
			;
		slots[j] = p->slots[i];
	}
	free(p->slots);
	p->slots = slots;
	p->n_slots = n;
	return 0;
}

/* The pooled copy of s[0..n) (NUL added); NULL on ENOMEM. */
const char *
hotlist_pool_intern(struct hotlist_pool *p, const char *s, size_t n)
{
	uint32_t h = (uint32_t)hotlist_hash_bytes(s, n);
	struct pool_chunk *c;
	size_t i;
	char *copy;

	if (n > UINT32_MAX / 2)
		return NULL;
	if (p->n_used * 2 >= p->n_slots && pool_grow(p) < 0)
		return NULL;
	for (i = h & (p->n_slots - 1); p->slots[i].s; i = (i + 1) & (p->n_slots - 1))
		if (p->slots[i].hash == h && p->slots[i].len == n && memcmp(p->slots[i].s, s, n) == 0)
			return p->slots[i].s;
	c = p->chunks;
	if (!c || POOL_CHUNK - c->used < n + 1) {
		size_t size = n + 1 > POOL_CHUNK ? n + 1 : POOL_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->used = 0;
		c->next = p->chunks;
		p->chunks = c;
	}
	copy = c->data + c->used;
	memcpy(copy, s, n);
	copy[n] = '\0';
	c->used += n + 1;
	p->slots[i] = (struct pool_slot){ copy, h, (uint32_t)n };
	p->n_used++;
	return copy;
}

/*
 * Large arrays ask for transparent huge pages: a 5-million-entry index is
 * a few hundred MB touched once at load and at random by every read, and
 * 4 KiB pages cost a fault each and a TLB miss per lookup.  Advice only.
 */
void
hotlist_advise_huge(void *p, size_t bytes)
{
	uintptr_t start = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;

	if (bytes >= (4u << 20) && end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

/* ---- names --------------------------------------------------------- */

static const char *const category_names[_HOTLIST_CAT_MAX] = {
	[HOTLIST_CAT_NONE] = "none",
	[HOTLIST_CAT_FELONY_VEHICLE] = "felony-vehicle",
	[HOTLIST_CAT_WANTED] = "wanted",
	[HOTLIST_CAT_MISSING] = "missing",
	[HOTLIST_CAT_STOLEN_VEHICLE] = "stolen-vehicle",
	[HOTLIST_CAT_STOLEN_PLATE] = "stolen-plate",
	[HOTLIST_CAT_BOLO] = "bolo",
	[HOTLIST_CAT_INVESTIGATION] = "investigation",
	[HOTLIST_CAT_IMMIGRATION] = "immigration",
};

/* Other spellings lists use; compared after lower-casing and turning
 * spaces and underscores into dashes. */
static const struct {
	const char *name;
	int category;
} category_aliases[] = {
	{ "felony", HOTLIST_CAT_FELONY_VEHICLE },
	{ "felony-vehicles", HOTLIST_CAT_FELONY_VEHICLE },
	{ "sfr", HOTLIST_CAT_FELONY_VEHICLE },
	{ "wanted-person", HOTLIST_CAT_WANTED },
	{ "warrant", HOTLIST_CAT_WANTED },
	{ "missing-person", HOTLIST_CAT_MISSING },
	{ "amber", HOTLIST_CAT_MISSING },
	{ "amber-alert", HOTLIST_CAT_MISSING },
	{ "stolen", HOTLIST_CAT_STOLEN_VEHICLE },
	{ "svs", HOTLIST_CAT_STOLEN_VEHICLE },
	{ "stolen-plates", HOTLIST_CAT_STOLEN_PLATE },
	{ "stolen-license-plate", HOTLIST_CAT_STOLEN_PLATE },
	{ "slr", HOTLIST_CAT_STOLEN_PLATE },
	{ "flyer", HOTLIST_CAT_BOLO },
	{ "local", HOTLIST_CAT_BOLO },
	{ "manual", HOTLIST_CAT_INVESTIGATION },
};

/*
 * Words that mark an immigration-enforcement list, whatever the source
 * calls its category.  Policy IV.C.4 forbids using the system for it, so
 * such a category is refused rather than treated as unknown-but-loaded.
 */
static const char *const prohibited_words[] = {
	"immigration", "immigrant", "ice", "ero", "ins", "deport", "deportation",
	"removal", "alien", "border", "cbp", "uscis", "detainer", NULL
};

const char *
hotlist_category_name(int category)
{
	if (category < 0 || category >= _HOTLIST_CAT_MAX)
		return "invalid";
	return category_names[category];
}

bool
hotlist_category_is_prohibited(int category)
{
	return category == HOTLIST_CAT_IMMIGRATION;
}

/* Lower-case, spaces/underscores to dashes; false if it does not fit. */
static bool
fold_name(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i]; i++) {
		if (i + 1 >= size)
			return false;
		if (in[i] == ' ' || in[i] == '_')
			out[i] = '-';
		else
			out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[i] = '\0';
	return true;
}

bool
hotlist_text_is_prohibited(const char *text)
{
	char folded[HOTLIST_TEXT_MAX + 1];
	const char *p;
	size_t i, n;

	if (!fold_name(text, folded, sizeof(folded)))
		return false;
	/* Whole words only: "ice" must not catch "police" or "device". */
	for (p = folded; *p;) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		for (n = 0; isalnum((unsigned char)p[n]); n++)
			;
		for (i = 0; n && prohibited_words[i]; i++)
			if (strlen(prohibited_words[i]) == n && memcmp(p, prohibited_words[i], n) == 0)
				return true;
		p += n;
	}
	return false;
}

int
hotlist_category_from_name(const char *name)
{
	char folded[64];
	size_t i;

	if (!fold_name(name, folded, sizeof(folded)))
		return -EINVAL;
	if (hotlist_text_is_prohibited(folded))
		return HOTLIST_CAT_IMMIGRATION;
	for (i = 1; i < _HOTLIST_CAT_MAX; i++)
		if (strcmp(folded, category_names[i]) == 0)
			return (int)i;
	for (i = 0; i < sizeof(category_aliases) / sizeof(category_aliases[0]); i++)
		if (strcmp(folded, category_aliases[i].name) == 0)
			return category_aliases[i].category;
	return -EINVAL;
}

/*
 * Defaults: felony vehicle and wanted above stolen vehicle above stolen
 * plate above local BOLO.  State and national sources (NCIC, CA DOJ) rank
 * one above local ones for the same category: their entries are
 * validated records, a flyer may be days old.
 */
int
hotlist_default_priority(int category, const char *source)
{
	static const uint8_t base[_HOTLIST_CAT_MAX] = {
		[HOTLIST_CAT_FELONY_VEHICLE] = 90,
		[HOTLIST_CAT_WANTED] = 90,
		[HOTLIST_CAT_MISSING] = 80,
		[HOTLIST_CAT_STOLEN_VEHICLE] = 70,
		[HOTLIST_CAT_STOLEN_PLATE] = 60,
		[HOTLIST_CAT_INVESTIGATION] = 50,
		[HOTLIST_CAT_BOLO] = 40,
	};
	int p;

	if (category <= 0 || category >= _HOTLIST_CAT_MAX)
		return 1;
	p = base[category] ? base[category] : 1;
	if (source && (strncmp(source, "ncic", 4) == 0 || strncmp(source, "cadoj", 5) == 0 ||
	    strncmp(source, "clets", 5) == 0))
		p += 1;
	return p;
}

static const char *const format_names[_HOTLIST_FMT_MAX] = {
	[HOTLIST_FMT_CADOJ_SVS] = "cadoj-svs",
	[HOTLIST_FMT_CADOJ_SLR] = "cadoj-slr",
	[HOTLIST_FMT_CADOJ_SFR] = "cadoj-sfr",
	[HOTLIST_FMT_NCIC] = "ncic",
	[HOTLIST_FMT_DELIMITED] = "delimited",
};

const char *
hotlist_format_name(int format)
{
	if (format < 0 || format >= _HOTLIST_FMT_MAX)
		return "invalid";
	return format_names[format];
}

const char *
hotlist_format_source(int format)
{
	static const char *const sources[_HOTLIST_FMT_MAX] = {
		[HOTLIST_FMT_CADOJ_SVS] = "cadoj-svs",
		[HOTLIST_FMT_CADOJ_SLR] = "cadoj-slr",
		[HOTLIST_FMT_CADOJ_SFR] = "cadoj-sfr",
		[HOTLIST_FMT_NCIC] = "ncic",
		[HOTLIST_FMT_DELIMITED] = "local",
	};

	return format >= 0 && format < _HOTLIST_FMT_MAX ? sources[format] : "local";
}

int
hotlist_format_from_name(const char *name)
{
	int i;

	for (i = 0; i < _HOTLIST_FMT_MAX; i++)
		if (strcmp(name, format_names[i]) == 0)
			return i;
	/* The bare table names are what the DOJ files are called. */
	if (strcmp(name, "svs") == 0)
		return HOTLIST_FMT_CADOJ_SVS;
	if (strcmp(name, "slr") == 0)
		return HOTLIST_FMT_CADOJ_SLR;
	if (strcmp(name, "sfr") == 0)
		return HOTLIST_FMT_CADOJ_SFR;
	if (strcmp(name, "csv") == 0 || strcmp(name, "bolo") == 0)
		return HOTLIST_FMT_DELIMITED;
	return -EINVAL;
}

/*
 * NCIC state codes (LIS): the states, DC and territories, Canadian
 * provinces and territories, Mexico, and the US government:
 * AB AK AL AR AS AZ BC CA CO CT DC DE FL GA GU HI IA ID IL IN KS KY LA MA MB
 * MD ME MI MN MO MP MS MT MX NB NC ND NE NF NH NJ NL NM NS NT NU NV NY OH OK
 * ON OR PA PE PQ PR QC RI SC SD SK TN TX US UT VA VI VT WA WI WV WY YT.
 * Checked for every record of a five-million-line list, so as a bitmap:
 * bit (b - 'A') of states[a - 'A'] is set when "ab" is a code.
 */
static const uint32_t states[26] = {
	0x2060c02, 0x0000004, 0x0084001, 0x0000014, 0x0000000, 0x0000800,
	0x0100001, 0x0000100, 0x0002809, 0x0000000, 0x1040000, 0x0000001,
	0x08ce11b, 0x13c1abe, 0x0022480, 0x0030011, 0x0000004, 0x0000100,
	0x000040c, 0x0802000, 0x00c0000, 0x0080101, 0x1200101, 0x0000000,
	0x0080000, 0x0000000
};

bool
hotlist_state_valid(const char *state)
{
	if (!state || state[0] < 'A' || state[0] > 'Z' || state[1] < 'A' || state[1] > 'Z' ||
	    state[2] != '\0')
		return false;
	return states[state[0] - 'A'] & (UINT32_C(1) << (state[1] - 'A'));
}

int
hotlist_plate_normalize(const char *in, bool allow_wildcard, char out[HOTLIST_PATTERN_MAX + 1])
{
	size_t n = 0, literals = 0;
	bool wild = false;
	char c;

	for (; *in; in++) {
		c = *in;
		if (c == ' ' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			literals++;
		else if (allow_wildcard && (c == '?' || c == '*')) {
			/* "**" means "*"; keep patterns canonical so equal ones compare equal. */
			if (c == '*' && n > 0 && out[n - 1] == '*')
				continue;
			wild = true;
		} else
			return -EINVAL;
		if (n >= HOTLIST_PATTERN_MAX)
			return -EINVAL;
		out[n++] = c;
	}
	out[n] = '\0';
	if (n == 0)
		return -EINVAL;
	if (!wild)
		return n <= HOTLIST_PLATE_MAX ? 0 : -EINVAL;
	if (literals < HOTLIST_PATTERN_MIN_LITERALS)
		return -EINVAL;
	return 1;
}

/* ---- NCIC list codes ------------------------------------------------ */

int
hotlist_codes_parse(const char *text, struct hotlist_codes *ret)
{
	struct hotlist_codes codes = { 0 };
	char name[64];
	const char *p = text, *end;
	int cat;
	size_t n;

	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		if (!*p)
			break;
		/* CODE=category, CODE one upper-case letter or digit. */
		if (!isupper((unsigned char)p[0]) && !isdigit((unsigned char)p[0]))
			return -EINVAL;
		if (p[1] != '=' && p[1] != ':')
			return -EINVAL;
		end = p + 2 + strcspn(p + 2, ", ");
		n = (size_t)(end - (p + 2));
		if (n == 0 || n >= sizeof(name))
			return -EINVAL;
		memcpy(name, p + 2, n);
		name[n] = '\0';
		if ((cat = hotlist_category_from_name(name)) < 0)
			return -EINVAL;
		codes.category[(unsigned char)p[0]] = (uint8_t)cat;
		p = end;
	}
	*ret = codes;
	return 0;
}

/* ---- lists ---------------------------------------------------------- */

int
hotlist_new(const char *source, struct hotlist **ret)
{
	struct hotlist *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->pool = hotlist_pool_new();
	l->source = strdup(source ? source : "");
	l->format = -1;
	if (!l->pool || !l->source) {
		hotlist_free(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

void
hotlist_free(struct hotlist *l)
{
	if (!l)
		return;
	hotlist_pool_free(l->pool);
	free(l->entries);
	free(l->source);
	free(l->file_name);
	free(l);
}

static const char *
intern_opt(struct hotlist_pool *p, const char *s, bool *ok)
{
	const char *r;

	if (!s || !*s)
		return NULL;
	if (strlen(s) > HOTLIST_TEXT_MAX) {
		*ok = false;
		return NULL;
	}
	if (!(r = hotlist_pool_intern(p, s, strlen(s))))
		*ok = false;
	return r;
}

int
hotlist_reserve(struct hotlist *l, size_t n)
{
	struct hotlist_entry *v;

	if (n <= l->alloc)
		return 0;
	if (!(v = realloc(l->entries, n * sizeof(*v))))
		return -ENOMEM;
	l->entries = v;
	l->alloc = n;
	return 0;
}

/* Appends e, whose strings are already pooled (the parsers' path). */
int
hotlist_append(struct hotlist *l, const struct hotlist_entry *e)
{
	if (l->n_entries == l->alloc) {
		size_t n = l->alloc ? l->alloc * 2 : 1024;
		struct hotlist_entry *v = realloc(l->entries, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->entries = v;
		l->alloc = n;
	}
	l->entries[l->n_entries++] = *e;
	return 0;
}

int
hotlist_add(struct hotlist *l, const struct hotlist_entry *e)
{
	struct hotlist_entry c = *e;
	bool ok = true;
	int r;

	if (e->category <= HOTLIST_CAT_NONE || e->category >= _HOTLIST_CAT_MAX)
		return -EINVAL;
	if (hotlist_category_is_prohibited(e->category))
		return -EPERM;
	if ((r = hotlist_plate_normalize(e->plate, true, c.plate)) < 0)
		return r;
	c.flags = (uint8_t)((e->flags & HOTLIST_F_PERSON) | (r == 1 ? HOTLIST_F_WILDCARD : 0));
	if (e->state[0] && !hotlist_state_valid(e->state))
		return -EINVAL;
	if (e->expiry_usec && e->effective_usec && e->expiry_usec <= e->effective_usec)
		return -EINVAL;
	if (c.priority == 0)
		c.priority = (uint8_t)hotlist_default_priority(c.category, e->source);
	if (c.priority > 100)
		return -EINVAL;
	c.source = intern_opt(l->pool, e->source ? e->source : l->source, &ok);
	c.case_no = intern_opt(l->pool, e->case_no, &ok);
	c.reason = intern_opt(l->pool, e->reason, &ok);
	c.description = intern_opt(l->pool, e->description, &ok);
	if (!ok)
		return -EINVAL;
	return hotlist_append(l, &c);
}

/* ---- diff ------------------------------------------------------------
 * A set of the previous version's entry keys (64-bit hashes of plate,
 * state, category, case and expiry); each entry of the new version either
 * finds its key (unchanged, and the key is marked) or not (added);
 * unmarked keys left are removed.  Only the hashes are kept, so that the
 * importer can diff five million entries streamed from the store and the
 * file without holding either: two different keys with one hash (odds
 * about 1 in 10^6 for two 5-million-entry versions) would move one entry
 * from added to unchanged in the counts, which are provenance, never
 * matching. */

uint64_t
hotlist_entry_key(const struct hotlist_entry *e)
{
	uint64_t h = hotlist_hash_bytes(e->plate, strlen(e->plate));

	h ^= hotlist_hash_bytes(e->state, strlen(e->state)) * 31;
	h ^= (uint64_t)e->category * UINT64_C(0x9e3779b97f4a7c15);
	h ^= (uint64_t)e->expiry_usec * UINT64_C(0xc2b2ae3d27d4eb4f);
	if (e->case_no)
		h ^= hotlist_hash_bytes(e->case_no, strlen(e->case_no)) * 7;
	h &= ~UINT64_C(1);	/* bit 0 marks a key seen */
	return h ? h : 2;
}

struct hotlist_keyset {
	uint64_t *slots;	/* 0: free; key | 1 once marked */
	size_t n_slots, n_used;
};

int
hotlist_keyset_new(size_t n, struct hotlist_keyset **ret)
{
	struct hotlist_keyset *k = calloc(1, sizeof(*k));
	size_t n_slots = 1024;

	if (!k)
		return -ENOMEM;
	while (n_slots < 2 * n + 2)
		n_slots *= 2;
	if (!(k->slots = calloc(n_slots, sizeof(*k->slots)))) {
		free(k);
		return -ENOMEM;
	}
	hotlist_advise_huge(k->slots, n_slots * sizeof(*k->slots));
	k->n_slots = n_slots;
	*ret = k;
	return 0;
}

void
hotlist_keyset_free(struct hotlist_keyset *k)
{
	if (!k)
		return;
	free(k->slots);
	free(k);
}

static size_t
keyset_find(const struct hotlist_keyset *k, uint64_t key)
{
	size_t j;

	for (j = (key >> 1) & (k->n_slots - 1); k->slots[j] &&
	    (k->slots[j] & ~UINT64_C(1)) != key; j = (j + 1) & (k->n_slots - 1))
		;
	return j;
}

static int
hotlist_keyset_grow(struct hotlist_keyset *k)
{
	struct hotlist_keyset bigger = { .n_slots = k->n_slots * 2 };
	size_t j;

	if (!(bigger.slots = calloc(bigger.n_slots, sizeof(*bigger.slots))))
		return -ENOMEM;
	hotlist_advise_huge(bigger.slots, bigger.n_slots * sizeof(*bigger.slots));
	for (j = 0; j < k->n_slots; j++)
		if (k->slots[j])
			bigger.slots[keyset_find(&bigger, k->slots[j] & ~UINT64_C(1))] = k->slots[j];
	free(k->slots);
	k->slots = bigger.slots;
	k->n_slots = bigger.n_slots;
	return 0;
}

int
hotlist_keyset_add(struct hotlist_keyset *k, uint64_t key)
{
	size_t j;

	int r;

	if (2 * (k->n_used + 1) > k->n_slots && (r = hotlist_keyset_grow(k)) < 0)
		return r;
	j = keyset_find(k, key);
	if (!k->slots[j]) {	/* a duplicate counts once */
		k->slots[j] = key;
		k->n_used++;
	}
	return 0;
}

bool
hotlist_keyset_mark(struct hotlist_keyset *k, uint64_t key)
{
	size_t j = keyset_find(k, key);

	if (!k->slots[j])
		return false;
	k->slots[j] |= 1;
	return true;
}

/*
 * Many keys at once: the slot of the key PREFETCH_KEYS ahead is fetched
 * while this one is probed, so a table far larger than the caches costs
 * a fraction of a miss per key instead of one each.
 */
#define PREFETCH_KEYS 16

int
hotlist_keyset_add_many(struct hotlist_keyset *k, const uint64_t *keys, size_t n)
{
	size_t i;
	int r;

	/* Grown first, so the slots prefetched are the ones probed. */
	while (2 * (k->n_used + n + 1) > k->n_slots)
		if ((r = hotlist_keyset_grow(k)) < 0)
			return r;
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_KEYS < n)
			__builtin_prefetch(&k->slots[(keys[i + PREFETCH_KEYS] >> 1) & (k->n_slots - 1)], 1);
		if ((r = hotlist_keyset_add(k, keys[i])) < 0)
			return r;
	}
	return 0;
}

size_t
hotlist_keyset_mark_many(struct hotlist_keyset *k, const uint64_t *keys, size_t n)
{
	size_t i, marked = 0;

	for (i = 0; i < n; i++) {
		if (i + PREFETCH_KEYS < n)
			__builtin_prefetch(&k->slots[(keys[i + PREFETCH_KEYS] >> 1) & (k->n_slots - 1)], 1);
		marked += hotlist_keyset_mark(k, keys[i]);
	}
	return marked;
}

size_t
hotlist_keyset_unmarked(const struct hotlist_keyset *k)
{
	size_t j, n = 0;

	for (j = 0; j < k->n_slots; j++)
		n += k->slots[j] && !(k->slots[j] & 1);
	return n;
}

int
hotlist_diff(const struct hotlist *prev, const struct hotlist *next, size_t *ret_added,
    size_t *ret_removed, size_t *ret_unchanged)
{
	struct hotlist_keyset *k;
	size_t i, added = 0, unchanged = 0;
	int r;

	if ((r = hotlist_keyset_new(prev->n_entries, &k)) < 0)
		return r;
	for (i = 0; i < prev->n_entries; i++)
		if ((r = hotlist_keyset_add(k, hotlist_entry_key(&prev->entries[i]))) < 0) {
			hotlist_keyset_free(k);
			return r;
		}
	for (i = 0; i < next->n_entries; i++) {
		if (hotlist_keyset_mark(k, hotlist_entry_key(&next->entries[i])))
			unchanged++;
		else
			added++;
	}
	*ret_added = added;
	*ret_removed = hotlist_keyset_unmarked(k);
	*ret_unchanged = unchanged;
	hotlist_keyset_free(k);
	return 0;
}
