/*
 * What alpr-alertd says aloud for a hit: the category, the state and the
 * plate spelled in the phonetic alphabet deputies use ("Stolen vehicle.
 * California. Seven, Adam, Boy, Charles, One, Two, Three." -- APCO by
 * default, NATO as an option).  Pure: audio.c speaks it, tests and
 * tests/tools/alert-say call it.  Its input is a hit that matchd sent, so
 * only letters, digits and known state names reach the synthesiser.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemons/alert/alertd.h"

#define TEXT_MAX 512

static const char *const apco[26] = {
	"Adam", "Boy", "Charles", "David", "Edward", "Frank", "George", "Henry", "Ida",
	"John", "King", "Lincoln", "Mary", "Nora", "Ocean", "Paul", "Queen", "Robert",
	"Sam", "Tom", "Union", "Victor", "William", "X-ray", "Young", "Zebra",
};
static const char *const nato[26] = {
	"Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India",
	"Juliett", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo",
	"Sierra", "Tango", "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu",
};
static const char *const digits[10] = {
	"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine",
};

static const struct {
	const char *code, *name;
} us_states[] = {
	{ "AL", "Alabama" }, { "AK", "Alaska" }, { "AZ", "Arizona" }, { "AR", "Arkansas" },
	{ "CA", "California" }, { "CO", "Colorado" }, { "CT", "Connecticut" },
	{ "DE", "Delaware" }, { "DC", "District of Columbia" }, { "FL", "Florida" },
	{ "GA", "Georgia" }, { "HI", "Hawaii" }, { "ID", "Idaho" }, { "IL", "Illinois" },
	{ "IN", "Indiana" }, { "IA", "Iowa" }, { "KS", "Kansas" }, { "KY", "Kentucky" },
	{ "LA", "Louisiana" }, { "ME", "Maine" }, { "MD", "Maryland" },
	{ "MA", "Massachusetts" }, { "MI", "Michigan" }, { "MN", "Minnesota" },
	{ "MS", "Mississippi" }, { "MO", "Missouri" }, { "MT", "Montana" },
	{ "NE", "Nebraska" }, { "NV", "Nevada" }, { "NH", "New Hampshire" },
	{ "NJ", "New Jersey" }, { "NM", "New Mexico" }, { "NY", "New York" },
	{ "NC", "North Carolina" }, { "ND", "North Dakota" }, { "OH", "Ohio" },
	{ "OK", "Oklahoma" }, { "OR", "Oregon" }, { "PA", "Pennsylvania" },
	{ "RI", "Rhode Island" }, { "SC", "South Carolina" }, { "SD", "South Dakota" },
	{ "TN", "Tennessee" }, { "TX", "Texas" }, { "UT", "Utah" }, { "VT", "Vermont" },
	{ "VA", "Virginia" }, { "WA", "Washington" }, { "WV", "West Virginia" },
	{ "WI", "Wisconsin" }, { "WY", "Wyoming" }, { "GOV", "Government" },
};

/* Appends with ", " between items; silently stops at the end of the buffer. */
static void
put(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s", s);
}

char *
announce_text(const json_t *hit_body, int alphabet)
{
	const char *const *words = alphabet == CONF_ALPHABET_NATO ? nato : apco;
	const json_t *read = json_object_get(hit_body, "read");
	const json_t *entry = json_object_get(hit_body, "entry");
	const char *plate, *category, *state, *p;
	char text[TEXT_MAX] = "", cat[64];
	size_t i, n = 0;
	bool first = true;

	plate = json_string_value(json_object_get(read, "plate"));
	category = json_string_value(json_object_get(entry, "category"));
	state = json_string_value(json_object_get(entry, "state"));
	if (state == NULL)
		state = json_string_value(json_object_get(read, "state"));
	if (plate == NULL)
		return NULL;
	/* "stolen_vehicle" -> "Stolen vehicle": letters and spaces only reach the synthesiser. */
	if (category != NULL) {
		for (p = category; *p != '\0' && n < sizeof(cat) - 1; p++) {
			if (isalpha((unsigned char)*p)) {
				cat[n] = n == 0 ? toupper((unsigned char)*p) : tolower((unsigned char)*p);
				n++;
			} else if ((*p == '_' || *p == '-' || *p == ' ') && n > 0 && cat[n - 1] != ' ')
				cat[n++] = ' ';
		}
		while (n > 0 && cat[n - 1] == ' ')
			n--;
		cat[n] = '\0';
		if (n > 0) {
			put(text, sizeof(text), cat);
			put(text, sizeof(text), ". ");
		}
	}
	if (state != NULL)
		for (i = 0; i < sizeof(us_states) / sizeof(us_states[0]); i++)
			if (strcasecmp(state, us_states[i].code) == 0) {
				put(text, sizeof(text), us_states[i].name);
				put(text, sizeof(text), ". ");
				break;
			}
	for (p = plate; *p != '\0'; p++) {
		const char *w = NULL;

		if (*p >= '0' && *p <= '9')
			w = digits[*p - '0'];
		else if (isalpha((unsigned char)*p))
			w = words[toupper((unsigned char)*p) - 'A'];
		if (w == NULL)
			continue;	/* spaces and dashes are not spoken */
		if (!first)
			put(text, sizeof(text), ", ");
		put(text, sizeof(text), w);
		first = false;
	}
	put(text, sizeof(text), ".");
	return strdup(text);
}
