/*
 * The hit workflow's state machine and the HIT message parser
 * (policy/hit.h).  Runs in alpr-matchd, alprctl and alpr-alertd; the HIT
 * payloads come from alpr-matchd, a trusted peer, but every field is still
 * type-checked before use (and fuzzed: tests/fuzz/fuzz-hit.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "policy/hit.h"
#include "policy/policy-private.h"

static const char *const hit_states[HIT_STATE_MAX] = {
	[HIT_NEW] = "NEW",
	[HIT_VISUALLY_CONFIRMED] = "VISUALLY_CONFIRMED",
	[HIT_MISREAD] = "MISREAD",
	[HIT_CLETS_CONFIRMED] = "CLETS_CONFIRMED",
	[HIT_CLETS_NOT_CONFIRMED] = "CLETS_NOT_CONFIRMED",
	[HIT_DISPOSED] = "DISPOSED",
};

const char *
policy_hit_state_name(int state)
{
	return state >= 0 && state < HIT_STATE_MAX ? hit_states[state] : "?";
}

int
policy_hit_state_from_name(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < HIT_STATE_MAX; i++)
		if (strcmp(hit_states[i], name) == 0)
			return i;
	return -EINVAL;
}

int
policy_hit_step_allowed(int from, int to)
{
	switch (from) {
	case HIT_NEW:
		return to == HIT_VISUALLY_CONFIRMED || to == HIT_MISREAD ? 0 : -EPERM;
	case HIT_VISUALLY_CONFIRMED:
		return to == HIT_CLETS_CONFIRMED || to == HIT_CLETS_NOT_CONFIRMED ? 0 : -EPERM;
	case HIT_CLETS_CONFIRMED:
		/* R5: a disposition only after CLETS verification. */
		return to == HIT_DISPOSED ? 0 : -EPERM;
	default:
		return -EPERM;
	}
}

bool
policy_hit_state_final(int state)
{
	return state == HIT_MISREAD || state == HIT_CLETS_NOT_CONFIRMED || state == HIT_DISPOSED;
}

/* "no-action" closes a verified hit without enforcement; the rest are actions. */
static const char *const dispositions[] = { "no-action", "stop", "arrest", "citation",
	"vehicle-recovered", "investigation", NULL };

bool
policy_disposition_valid(const char *d)
{
	return policy_word_in(dispositions, d);
}

bool
policy_disposition_is_action(const char *d)
{
	return policy_disposition_valid(d) && strcmp(d, "no-action") != 0;
}

/* An optional member: absent (or null when nullable), or of the type check wants. */
static bool
opt_ok(const json_t *o, const char *key, int (*check)(const json_t *), bool nullable)
{
	const json_t *j = json_object_get(o, key);

	return j == NULL || (nullable && json_is_null(j)) || check(j);
}

static int is_integer(const json_t *j) { return json_is_integer(j); }
static int is_string(const json_t *j) { return json_is_string(j); }
static int is_object(const json_t *j) { return json_is_object(j); }
static int is_boolean(const json_t *j) { return json_is_boolean(j); }
static int is_array(const json_t *j) { return json_is_array(j); }

int
policy_hit_msg_parse(const json_t *body, struct policy_hit_msg *ret)
{
	const json_t *read, *entry, *match, *j;
	json_int_t prio;
	size_t len;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(body) || !json_is_integer(j = json_object_get(body, "hit")) ||
	    json_integer_value(j) < 0)
		return -EBADMSG;
	ret->id = json_integer_value(j);
	read = json_object_get(body, "read");
	entry = json_object_get(body, "entry");
	match = json_object_get(body, "match");
	if (!json_is_object(read) || !json_is_object(entry) ||
	    (match != NULL && !json_is_object(match)))
		return -EBADMSG;
	if ((ret->plate = json_string_value(json_object_get(read, "plate"))) == NULL ||
	    (len = strlen(ret->plate)) == 0 || len > POLICY_HIT_PLATE_MAX)
		return -EBADMSG;
	if ((ret->category = json_string_value(json_object_get(entry, "category"))) == NULL)
		return -EBADMSG;
	/* Optional fields must at least have the right type. */
	if (!opt_ok(entry, "priority", is_integer, false) ||
	    !opt_ok(entry, "person", is_boolean, false) ||
	    !opt_ok(entry, "id", is_integer, false) ||
	    !opt_ok(entry, "source", is_string, true) ||
	    !opt_ok(entry, "description", is_string, true) ||
	    !opt_ok(read, "camera", is_string, true) ||
	    !opt_ok(read, "capture_usec", is_integer, false) ||
	    !opt_ok(read, "gps", is_object, true) ||
	    !opt_ok(body, "workflow_state", is_string, true) ||
	    !opt_ok(body, "disposition", is_string, true) ||
	    !opt_ok(body, "steps", is_array, true) ||
	    !opt_ok(body, "images", is_object, true) ||
	    !opt_ok(read, "images", is_object, true))
		return -EBADMSG;
	prio = json_integer_value(json_object_get(entry, "priority"));
	if (json_object_get(entry, "priority") == NULL)
		prio = 3;
	ret->priority = prio < 1 ? 1 : prio > 9 ? 9 : (int)prio;
	ret->person = json_is_true(json_object_get(entry, "person"));
	ret->entry_id = json_integer_value(json_object_get(entry, "id"));
	ret->state = HIT_NEW;
	if ((j = json_object_get(body, "workflow_state")) != NULL && json_is_string(j) &&
	    (ret->state = policy_hit_state_from_name(json_string_value(j))) < 0)
		return -EBADMSG;
	ret->disposition = json_string_value(json_object_get(body, "disposition"));
	if (ret->disposition != NULL && !policy_disposition_valid(ret->disposition))
		return -EBADMSG;
	ret->images = json_object_get(body, "images");
	if (!json_is_object(ret->images))
		ret->images = json_object_get(read, "images");
	if (!json_is_object(ret->images))
		ret->images = NULL;
	return 0;
}

int
policy_hit_msg_image(const struct policy_hit_msg *m, const char *key, size_t size,
    size_t *ret_off, size_t *ret_len)
{
	const json_t *v = json_object_get(m->images, key);
	json_int_t off, len;

	if (v == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) != 2 ||
	    !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1)))
		return -EBADMSG;
	off = json_integer_value(json_array_get(v, 0));
	len = json_integer_value(json_array_get(v, 1));
	if (off < 0 || len <= 0 || (uint64_t)off > size || (uint64_t)len > size - (uint64_t)off)
		return -EBADMSG;
	*ret_off = off;
	*ret_len = len;
	return 1;
}
