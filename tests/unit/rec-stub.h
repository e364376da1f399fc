/*
 * A recognizer that reads nothing and a sandbox that is never entered, for
 * the test programs that include daemons/ocr/worker.c for its statics
 * (test-ocr-sched, fuzz-ocr): what they test is the code around the
 * recognizer, not the recognizer.  Include it once, after worker.c.
 */
#ifndef ALPR_TESTS_REC_STUB_H
#define ALPR_TESTS_REC_STUB_H

void rec_options_init(struct rec_options *opt) { memset(opt, 0, sizeof(*opt)); }
int rec_new(const char *dir, const struct rec_options *opt, struct rec_ctx **ret)
{ return -ENOSYS; }
void rec_free(struct rec_ctx *ctx) { }
int rec_run(struct rec_ctx *ctx, const uint8_t *grey, int w, int h, size_t stride,
    unsigned flags, struct rec_result *ret) { return -ENOSYS; }
void rec_global_set_threads(int n) { }
int ocr_sandbox_enter(void) { return -ENOSYS; }

#endif
