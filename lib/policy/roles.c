/*
 * The policy's tables: roles and what each may do (IV.B.1), the purposes a
 * user may give (IV.F.3) and the prohibited ones (IV.C), the hit workflow
 * (IV.E).  Pure functions; every process that links libalpr uses these
 * and no other copy.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-private.h"

/*
 * Roles of IV.B.1 (sworn, crime analysts, dispatchers, IT, records,
 * contract, volunteers) plus the two the program needs (administrator,
 * auditor).  Least privilege: IT and volunteers work the equipment but
 * see no reads; administrators manage people and lists, not data;
 * auditors read the access log and may query for an audit.
 */
static const struct {
	const char *role;
	uint32_t perms;
} role_table[] = {
	{ "sworn", PERM_QUERY | PERM_HIT_VIEW | PERM_HIT_WORK | PERM_HOLD | PERM_EXPORT |
	    PERM_INSPECT | PERM_DEPLOY | PERM_HOTLIST },
	{ "analyst", PERM_QUERY | PERM_HIT_VIEW | PERM_HOLD | PERM_EXPORT | PERM_SHARE },
	{ "dispatcher", PERM_QUERY | PERM_HIT_VIEW | PERM_HIT_WORK },
	{ "it", PERM_INSPECT | PERM_DEPLOY | PERM_PURGE },
	{ "records", PERM_QUERY | PERM_HIT_VIEW | PERM_HOLD | PERM_EXPORT | PERM_SHARE },
	{ "contract", PERM_QUERY | PERM_HIT_VIEW | PERM_HIT_WORK | PERM_INSPECT | PERM_DEPLOY },
	{ "volunteer", PERM_INSPECT | PERM_DEPLOY },
	{ "administrator", PERM_USERS | PERM_RECIPIENTS | PERM_PURGE | PERM_HOTLIST | PERM_DEPLOY },
	{ "auditor", PERM_AUDIT | PERM_QUERY | PERM_HIT_VIEW },
};

static const char *const role_names[] = { "sworn", "analyst", "dispatcher", "it", "records",
	"contract", "volunteer", "administrator", "auditor", NULL };

uint32_t
policy_role_perms(const char *role)
{
	size_t i;

	for (i = 0; role != NULL && i < sizeof(role_table) / sizeof(role_table[0]); i++)
		if (strcmp(role_table[i].role, role) == 0)
			return role_table[i].perms;
	return 0;
}

bool
policy_role_valid(const char *role)
{
	return policy_role_perms(role) != 0;
}

const char *const *
policy_roles(void)
{
	return role_names;
}

/* IV.F.3 names "investigation, patrol follow-up, TRAKS Flyer, etc."; II.A and IV.B.4 the rest. */
static const char *const purposes[] = {
	"investigation",	/* criminal investigation */
	"patrol-follow-up",
	"flyer",		/* TRAKS / Critical Reach flyer */
	"hit-verification",	/* confirming an alert (IV.E) */
	"canvass",		/* area canvass of a serious incident (IV.B.4) */
	"missing-person",
	"stolen-vehicle",
	"warrant",
	"evidence",		/* IV.F.5.a.ii */
	"records-request",	/* lawful action to produce records */
	"audit",		/* IV.A.1.e, IV.F.6 */
	NULL,
};

bool
policy_purpose_allowed(const char *purpose)
{
	return policy_word_in(purposes, purpose);
}

const char *const *
policy_purposes(void)
{
	return purposes;
}

/*
 * Prohibited purposes (IV.C).  Text is folded before matching: lower case,
 * common digit-for-letter swaps undone, and then looked at twice: as words
 * (punctuation dropped inside a word, so "I.C.E." is "ice") for short
 * terms, and squashed to letters only ("d e p o r t") for long ones.
 */
static const struct {
	const char *term;
	const char *what;
	bool word;	/* must be a whole word (short terms) */
} prohibited[] = {
	{ "ice", "immigration enforcement", true },
	{ "cbp", "immigration enforcement", true },
	{ "uscis", "immigration enforcement", false },
	{ "ero", "immigration enforcement", true },
	{ "migra", "immigration enforcement", true },
	{ "immigra", "immigration enforcement", false },
	{ "immigrant", "immigration enforcement", false },
	{ "deport", "immigration enforcement", false },
	{ "borderpatrol", "immigration enforcement", false },
	{ "undocumented", "immigration enforcement", false },
	{ "illegalalien", "immigration enforcement", false },
	{ "alienregistration", "immigration enforcement", false },
	{ "visaoverstay", "immigration enforcement", false },
	{ "greencard", "immigration enforcement", false },
	{ "removalproceeding", "immigration enforcement", false },
	{ "personal", "personal use", false },
	{ "exwife", "personal use", false },
	{ "exhusband", "personal use", false },
	{ "girlfriend", "personal use", false },
	{ "boyfriend", "personal use", false },
	{ "myneighbo", "personal use", false },
	{ "harass", "harassment or intimidation", false },
	{ "intimidat", "harassment or intimidation", false },
	{ "stalk", "harassment or intimidation", false },
};

static char
unleet(char c)
{
	switch (c) {
	case '0': return 'o';
	case '1': return 'i';
	case '3': return 'e';
	case '4': return 'a';
	case '5': return 's';
	case '7': return 't';
	case '@': return 'a';
	case '$': return 's';
	case '!': return 'i';
	case '|': return 'i';
	default: return (char)tolower((unsigned char)c);
	}
}

static bool
has_word(const char *words, const char *term)
{
	size_t n = strlen(term);
	const char *p = words;

	while ((p = strstr(p, term)) != NULL) {
		if ((p == words || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p++;
	}
	return false;
}

bool
policy_text_prohibited(const char *text, const char **ret_what)
{
	char *words, *squash;
	size_t len, i, w = 0, q = 0;
	bool hit = false;

	if (text == NULL || text[0] == '\0')
		return false;
	len = strlen(text);
	words = malloc(len + 1);
	squash = malloc(len + 1);
	if (words == NULL || squash == NULL) {
		free(words);
		free(squash);
		/* Cannot check: treat as prohibited rather than let it through. */
		if (ret_what != NULL)
			*ret_what = "unchecked text";
		return true;
	}
	for (i = 0; i < len; i++) {
		char c = unleet(text[i]);

		if (c >= 'a' && c <= 'z') {
			words[w++] = c;
			squash[q++] = c;
		} else if (c == '.' || c == '\'' || c == '-' || c == '_' || c == '*') {
			/* inside a word: "i.c.e", "ex-wife" */
		} else if (w > 0 && words[w - 1] != ' ')
			words[w++] = ' ';
	}
	words[w] = squash[q] = '\0';
	for (i = 0; i < sizeof(prohibited) / sizeof(prohibited[0]) && !hit; i++) {
		if (prohibited[i].word)
			hit = has_word(words, prohibited[i].term);
		else
			hit = strstr(squash, prohibited[i].term) != NULL;
		if (hit && ret_what != NULL)
			*ret_what = prohibited[i].what;
	}
	/* A spaced-out short term: "i c e" is joined back into "ice". */
	if (!hit) {
		char *joined = strdup(words);
		size_t j = 0;

		if (joined == NULL)
			hit = true;
		for (i = 0; joined != NULL && words[i] != '\0'; i++) {
			bool single_before = words[i] == ' ' && i > 0 &&
			    (i == 1 || words[i - 2] == ' ') && words[i + 1] != '\0' &&
			    (words[i + 2] == ' ' || words[i + 2] == '\0');

			if (!single_before)
				joined[j++] = words[i];
		}
		if (joined != NULL) {
			joined[j] = '\0';
			for (i = 0; i < sizeof(prohibited) / sizeof(prohibited[0]) && !hit; i++)
				if (prohibited[i].word && has_word(joined, prohibited[i].term))
					hit = true;
			free(joined);
		}
		if (hit && ret_what != NULL)
			*ret_what = "immigration enforcement";
	}
	free(words);
	free(squash);
	return hit;
}

bool
policy_case_valid(const char *s)
{
	size_t i;
	bool digit = false;

	if (s == NULL)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (isdigit((unsigned char)s[i]))
			digit = true;
		else if (!isalpha((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return i >= 3 && i <= POLICY_CASE_MAX && digit;
}
