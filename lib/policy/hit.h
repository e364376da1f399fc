/*
 * The hit workflow (policy IV.E, R5-R7) and the HIT message, in one place
 * for every process: alpr-matchd enforces the machine on the database,
 * alpr-alertd offers only its legal steps and refuses forged ones, and
 * parses the HIT payloads matchd sends it (doc/protocol.md).  Needs only
 * jansson: no store, so the fuzz target links it alone.
 *
 *	NEW --> VISUALLY_CONFIRMED --> CLETS_CONFIRMED --> DISPOSED
 *	 \                        \
 *	  --> MISREAD              --> CLETS_NOT_CONFIRMED
 *
 * The deputy first confirms that the read matches the plate seen (IV.E.1),
 * then verifies through CLETS (IV.E.2); only a CLETS-confirmed hit takes a
 * disposition, and one that is an enforcement action needs a case number.
 * MISREAD, CLETS_NOT_CONFIRMED and DISPOSED are final.
 */
#ifndef ALPR_POLICY_HIT_H
#define ALPR_POLICY_HIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum policy_hit_state {
	HIT_NEW,
	HIT_VISUALLY_CONFIRMED,
	HIT_MISREAD,
	HIT_CLETS_CONFIRMED,
	HIT_CLETS_NOT_CONFIRMED,
	HIT_DISPOSED,
	HIT_STATE_MAX,
};
const char *policy_hit_state_name(int state);
int policy_hit_state_from_name(const char *name);
/* 0 if from -> to is a legal step, else -EPERM. */
int policy_hit_step_allowed(int from, int to);
bool policy_hit_state_final(int state);
/* A disposition that is an enforcement action needs a case number. */
bool policy_disposition_valid(const char *d);
bool policy_disposition_is_action(const char *d);

/* The longest plate a HIT may carry. */
#define POLICY_HIT_PLATE_MAX 16

/*
 * A HIT payload's fields, type-checked.  The strings are borrowed from the
 * payload.  state is the workflow state a resend carries (HIT_NEW if none),
 * disposition NULL unless it is one of the policy's.
 */
struct policy_hit_msg {
	int64_t id;
	const char *plate;		/* 1 to POLICY_HIT_PLATE_MAX characters */
	const char *category;
	int64_t entry_id;		/* 0 if the entry has none */
	int priority;			/* 1 (the most urgent) to 9 */
	bool person;
	int state;
	const char *disposition;
	const json_t *images;		/* {"crop": [off, len], ...}, or NULL */
};

/* 0, or -EBADMSG if a required field is missing or a field has the wrong type. */
int policy_hit_msg_parse(const json_t *body, struct policy_hit_msg *ret);
/*
 * The image key ("crop", "context") of a parsed HIT inside a memfd of size
 * bytes: 1 with its range, 0 if the HIT has none, -EBADMSG if it lies outside.
 */
int policy_hit_msg_image(const struct policy_hit_msg *m, const char *key, size_t size,
    size_t *ret_off, size_t *ret_len);

#endif
