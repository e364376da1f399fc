/*
 * The MDC page, embedded in alpr-alertd's binary so that it works offline
 * and nothing is fetched from elsewhere: page/index.html, app.css and
 * app.js are kept as ordinary files (easy to read and lint) and pulled in
 * by the assembler's .incbin at build time.  PAGE_DIR comes from local.mk.
 */
#include "config.h"

#include <stddef.h>

#include "daemons/alert/alertd.h"

#define EMBED(sym, file)						\
	__asm__(".section .rodata\n"					\
		".balign 16\n"						\
		".type " #sym ", @object\n"				\
		#sym ":\n"						\
		".incbin \"" PAGE_DIR "/" file "\"\n"			\
		#sym "_end:\n"						\
		".byte 0\n"						\
		".previous\n");						\
	extern const char sym[], sym##_end[]

EMBED(page_index_html, "index.html");
EMBED(page_app_css, "app.css");
EMBED(page_app_js, "app.js");

const struct page_file page_files[] = {
	{ "/", "text/html; charset=utf-8", page_index_html },
	{ "/app.css", "text/css; charset=utf-8", page_app_css },
	{ "/app.js", "text/javascript; charset=utf-8", page_app_js },
	{ NULL }
};

/* Lengths are link-time differences, so page_len() computes them. */
size_t
page_len(const struct page_file *f)
{
	if (f->data == page_index_html)
		return page_index_html_end - page_index_html;
	if (f->data == page_app_css)
		return page_app_css_end - page_app_css;
	if (f->data == page_app_js)
		return page_app_js_end - page_app_js;
	return 0;
}
