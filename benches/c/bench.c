/*
 * Per-call cost of Pennon's C ABI (libpennon.a), measured with clock_gettime.
 *
 * Snapshot: benches/fixtures/bindings.json (static-flag, targeting-flag, split-flag), the
 * context of benches/fixtures/context.json, now = 2026-11-22T09:00:00Z. Every benchmark first
 * checks that the call takes the intended path (reason STATIC / TARGETING_MATCH / SPLIT),
 * then runs 15 rounds of 100 000 calls and reports the median and the fastest round in ns
 * per call.
 *
 *   usage: bench [--quick] [FIXTURE]     (FIXTURE defaults to benches/fixtures/bindings.json)
 */
#define _POSIX_C_SOURCE 200809L

#include <pennon.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 15

/* The shared benchmark context (benches/fixtures/context.json), read in main(). */
static char *context_json;
static size_t context_len;
static const int64_t NOW = 1795338000000LL;

static PennonEngine *engine;
static PennonContext *context;
static volatile size_t sink; /* keeps results observable */
static int failures;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "benchmark sanity check failed: %s (%s)\n", what, pennon_last_error_message());
        failures++;
    }
}

/* ---- the measured calls ------------------------------------------------------------------ */

typedef void (*bench_fn)(const char *flag);

static void evaluate_json(const char *flag) {
    PennonBuffer out = {NULL, 0};
    if (pennon_engine_evaluate(engine, flag, strlen(flag), context_json, context_len, NULL, "null", 4, NOW, &out) ==
        PENNON_OK)
        sink += out.len;
    pennon_buffer_free(&out);
}

static void evaluate_ctx(const char *flag) {
    PennonBuffer out = {NULL, 0};
    if (pennon_engine_evaluate_ctx(engine, flag, strlen(flag), context, NULL, "null", 4, NOW, &out) == PENNON_OK)
        sink += out.len;
    pennon_buffer_free(&out);
}

static void get_boolean_json(const char *flag) {
    bool value = false;
    if (pennon_engine_get_boolean(engine, flag, strlen(flag), context_json, context_len, false, NOW, &value) ==
        PENNON_OK)
        sink += value;
}

static void get_boolean_ctx(const char *flag) {
    bool value = false;
    if (pennon_engine_get_boolean_ctx(engine, flag, strlen(flag), context, false, NOW, &value) == PENNON_OK)
        sink += value;
}

static void get_string_json(const char *flag) {
    PennonBuffer out = {NULL, 0};
    if (pennon_engine_get_string(engine, flag, strlen(flag), context_json, context_len, "control", 7, NOW, &out) ==
        PENNON_OK)
        sink += out.len;
    pennon_buffer_free(&out);
}

static void get_string_ctx(const char *flag) {
    PennonBuffer out = {NULL, 0};
    if (pennon_engine_get_string_ctx(engine, flag, strlen(flag), context, "control", 7, NOW, &out) == PENNON_OK)
        sink += out.len;
    pennon_buffer_free(&out);
}

static void evaluate_all_json(const char *flag) {
    (void)flag;
    PennonBuffer out = {NULL, 0};
    if (pennon_engine_evaluate_all_json(engine, context_json, context_len, NOW, &out) == PENNON_OK) sink += out.len;
    pennon_buffer_free(&out);
}

static void evaluate_all_ctx(const char *flag) {
    (void)flag;
    PennonBuffer out = {NULL, 0};
    if (pennon_engine_evaluate_all_ctx(engine, context, NOW, &out) == PENNON_OK) sink += out.len;
    pennon_buffer_free(&out);
}

static void parse_context(const char *flag) {
    (void)flag;
    PennonContext *parsed = NULL;
    if (pennon_context_new_json(context_json, context_len, &parsed) == PENNON_OK) sink += 1;
    pennon_context_free(parsed);
}

static void bucket_only(const char *flag) {
    uint32_t bucket = 0;
    if (pennon_bucket(flag, strlen(flag), "u-4711", 6, &bucket, NULL) == PENNON_OK) sink += bucket;
}

/* ---- harness ------------------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(const char *name, bench_fn fn, const char *flag, long iterations) {
    for (long i = 0; i < iterations / 10 + 1; i++) fn(flag); /* warm-up */
    double per_call[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double start = now_ns();
        for (long i = 0; i < iterations; i++) fn(flag);
        per_call[r] = (now_ns() - start) / (double)iterations;
    }
    qsort(per_call, ROUNDS, sizeof per_call[0], compare_doubles);
    printf("%-44s %10.0f ns %10.0f ns\n", name, per_call[ROUNDS / 2], per_call[0]);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
            *len = fread(text, 1, (size_t)size, f);
            text[*len] = '\0';
        }
    }
    fclose(f);
    return text;
}

/* The result of one evaluation contains `needle`. */
static int result_has(const char *flag, const char *needle) {
    PennonBuffer out = {NULL, 0};
    int ok = pennon_engine_evaluate(engine, flag, strlen(flag), context_json, context_len, NULL, "null", 4, NOW,
                                    &out) == PENNON_OK &&
             strstr(out.data, needle) != NULL;
    pennon_buffer_free(&out);
    return ok;
}

int main(int argc, char **argv) {
    int quick = 0;
    const char *fixture = "benches/fixtures/bindings.json";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else fixture = argv[i];
    }
    size_t len = 0;
    char *snapshot = read_file(fixture, &len);
    if (!snapshot) {
        fprintf(stderr, "cannot read %s (run from the repository root)\n", fixture);
        return 2;
    }
    context_json = read_file("benches/fixtures/context.json", &context_len);
    if (!context_json) {
        fprintf(stderr, "cannot read benches/fixtures/context.json (run from the repository root)\n");
        return 2;
    }
    engine = pennon_engine_new();
    PennonStatus status = pennon_engine_load(engine, snapshot, len);
    free(snapshot);
    if (status != PENNON_OK) {
        fprintf(stderr, "load failed: %s\n", pennon_last_error_message());
        return 2;
    }
    expect(pennon_context_new_json(context_json, context_len, &context) == PENNON_OK, "context parses");

    /* The benchmarks measure what they claim. */
    expect(result_has("static-flag", "\"reason\":\"STATIC\""), "static-flag is STATIC");
    expect(result_has("targeting-flag", "\"reason\":\"TARGETING_MATCH\""), "targeting-flag matches");
    expect(result_has("split-flag", "\"reason\":\"SPLIT\""), "split-flag splits");
    bool value = false;
    expect(pennon_engine_get_boolean(engine, "targeting-flag", 14, context_json, context_len, false, NOW, &value) ==
                   PENNON_OK &&
               value,
           "get_boolean(targeting-flag) is true");
    value = false;
    expect(pennon_engine_get_boolean_ctx(engine, "targeting-flag", 14, context, false, NOW, &value) == PENNON_OK &&
               value,
           "get_boolean_ctx(targeting-flag) is true");
    PennonBuffer all = {NULL, 0};
    expect(pennon_engine_evaluate_all_json(engine, context_json, context_len, NOW, &all) == PENNON_OK &&
               strstr(all.data, "\"errorCode\":\"") == NULL,
           "evaluate_all has no errors");
    pennon_buffer_free(&all);
    if (failures) return 1;

    long n = quick ? 200 : 100000;
    printf("libpennon %s, %s, %ld calls x %d rounds\n", pennon_version(), fixture, n, ROUNDS);
    printf("%-44s %13s %13s\n", "call", "median", "fastest");
    measure("evaluate (JSON ctx) static-flag", evaluate_json, "static-flag", n);
    measure("evaluate (JSON ctx) targeting-flag", evaluate_json, "targeting-flag", n);
    measure("evaluate (JSON ctx) split-flag", evaluate_json, "split-flag", n);
    measure("get_boolean (JSON ctx) static-flag", get_boolean_json, "static-flag", n);
    measure("get_boolean (JSON ctx) targeting-flag", get_boolean_json, "targeting-flag", n);
    measure("get_string (JSON ctx) split-flag", get_string_json, "split-flag", n);
    measure("evaluate_all_json (3 flags)", evaluate_all_json, NULL, n / 4 + 1);
    measure("evaluate_ctx (handle) static-flag", evaluate_ctx, "static-flag", n);
    measure("evaluate_ctx (handle) targeting-flag", evaluate_ctx, "targeting-flag", n);
    measure("evaluate_ctx (handle) split-flag", evaluate_ctx, "split-flag", n);
    measure("get_boolean_ctx (handle) static-flag", get_boolean_ctx, "static-flag", n);
    measure("get_boolean_ctx (handle) targeting-flag", get_boolean_ctx, "targeting-flag", n);
    measure("get_string_ctx (handle) split-flag", get_string_ctx, "split-flag", n);
    measure("evaluate_all_ctx (handle, 3 flags)", evaluate_all_ctx, NULL, n / 4 + 1);
    measure("context_new_json + context_free", parse_context, NULL, n);
    measure("pennon_bucket", bucket_only, "split-flag-2026", n);

    pennon_context_free(context);
    pennon_engine_free(engine);
    free(context_json);
    return sink == 0 ? 1 : 0;
}
