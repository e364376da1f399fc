/* The key table behind conf.c (private to lib/conf). */
#ifndef ALPR_CONF_TABLE_H
#define ALPR_CONF_TABLE_H

#include <stdbool.h>
#include <stddef.h>

enum conf_type { CONF_T_STR, CONF_T_INT, CONF_T_DOUBLE, CONF_T_BOOL, CONF_T_ENUM };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;			/* in the section's struct */
	double min, max;		/* CONF_T_INT, CONF_T_DOUBLE */
	const char *def;		/* parsed like a value from a file */
	const char *const *choices;	/* CONF_T_ENUM, NULL-terminated */
	bool reloadable;
};

struct conf_section {
	const char *name;	/* "camera" stands for every [camera.NAME] */
	bool per_camera;
	size_t offset;		/* of the section's struct in struct alpr_conf */
	const struct conf_key *keys;	/* ends with a NULL name */
};

extern const struct conf_section conf_sections[];	/* ends with a NULL name */

#endif
