/*
 * Error paths and ownership rules of the C ABI: NULL handles and pointers, bad snapshots
 * (status + message + path), keep-last-good, NULL-tolerant frees, invalid UTF-8, unknown
 * type names, invalid contexts (a result, not a failure), the thread-local last error,
 * the context-handle API and concurrent use of one engine. Meant to run under valgrind.
 * Prints "N passed, N failed"; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pennon.h"

static int passed;
static int failed;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (cond) {                                                                     \
            passed++;                                                                   \
        } else {                                                                        \
            failed++;                                                                   \
            fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
                    pennon_last_error_message());                                       \
        }                                                                               \
    } while (0)

#define S(literal) literal, sizeof(literal) - 1

static const char SNAPSHOT_V1[] =
    "{\"schemaVersion\":1,\"revision\":1,\"flags\":{"
    "\"dark-mode\":{\"type\":\"boolean\",\"state\":\"on\",\"variants\":{\"on\":true,\"off\":false},"
    "\"offVariant\":\"off\",\"fallthrough\":{\"variant\":\"on\"},\"metadata\":{\"owner\":\"web\"}},"
    "\"greeting\":{\"type\":\"string\",\"state\":\"on\",\"variants\":{\"a\":\"hello\\u0000world\"},"
    "\"offVariant\":\"a\",\"fallthrough\":{\"variant\":\"a\"}},"
    "\"retries\":{\"type\":\"number\",\"state\":\"on\",\"variants\":{\"n\":3.5},"
    "\"offVariant\":\"n\",\"fallthrough\":{\"variant\":\"n\"}},"
    "\"limits\":{\"type\":\"object\",\"state\":\"on\",\"variants\":{\"v\":{\"b\":2,\"a\":[1,\"é\"]}},"
    "\"offVariant\":\"v\",\"fallthrough\":{\"variant\":\"v\"}},"
    "\"gated\":{\"type\":\"boolean\",\"state\":\"on\",\"variants\":{\"on\":true,\"off\":false},"
    "\"offVariant\":\"off\",\"fallthrough\":{\"rollout\":{\"variant\":\"on\",\"otherwise\":\"off\","
    "\"percentage\":100}}}}}";

static const char SNAPSHOT_V2_WITH_WARNINGS[] =
    "{\"schemaVersion\":1,\"revision\":2,\"colour\":\"blue\",\"flags\":{"
    "\"dark-mode\":{\"type\":\"boolean\",\"state\":\"off\",\"variants\":{\"on\":true,\"off\":false},"
    "\"offVariant\":\"off\",\"fallthrough\":{\"variant\":\"on\"}},"
    "\"broken\":{\"type\":\"boolean\",\"state\":\"on\",\"variants\":{\"on\":true},"
    "\"offVariant\":\"missing\",\"fallthrough\":{\"variant\":\"on\"}}}}";

static bool contains(const PennonBuffer *buffer, const char *needle) {
    return buffer->data != NULL && strstr(buffer->data, needle) != NULL;
}

static bool message_starts_with(const char *prefix) {
    return strncmp(pennon_last_error_message(), prefix, strlen(prefix)) == 0;
}

static bool is_empty(const PennonBuffer *buffer) {
    return buffer->data == NULL && buffer->len == 0;
}

/* ---- library-wide functions -------------------------------------------------------------- */

static void test_status_codes(void) {
    CHECK(strcmp(pennon_status_code(PENNON_OK), "ok") == 0);
    CHECK(strcmp(pennon_status_code(PENNON_INVALID_JSON), "invalid_json") == 0);
    CHECK(strcmp(pennon_status_code(PENNON_INVALID_CONTEXT), "invalid_context") == 0);
    CHECK(strcmp(pennon_status_code(PENNON_INVALID_ARGUMENT), "invalid_argument") == 0);
    CHECK(strcmp(pennon_status_code(PENNON_INTERNAL), "internal") == 0);
    CHECK(strcmp(pennon_status_code(PENNON_NOT_LOADED), "not_loaded") == 0);
    CHECK(strcmp(pennon_status_code(-1), "unknown") == 0);
    CHECK(strcmp(pennon_status_code(999), "unknown") == 0);
    /* Every value from 1 to PENNON_INTERNAL has a distinct snake_case code. */
    for (int32_t s = 1; s <= PENNON_INTERNAL; s++) {
        const char *code = pennon_status_code(s);
        CHECK(strcmp(code, "unknown") != 0 && strspn(code, "abcdefghijklmnopqrstuvwxyz_") == strlen(code));
        if (s > 1) CHECK(strcmp(code, pennon_status_code(s - 1)) != 0);
    }
    CHECK(strlen(pennon_version()) > 0);
    CHECK(pennon_now_ms() > 1700000000000LL);
}

static void test_null_tolerant_frees(void) {
    pennon_engine_free(NULL);
    pennon_context_free(NULL);
    pennon_buffer_free(NULL);
    PennonBuffer empty = {NULL, 0};
    pennon_buffer_free(&empty);
    pennon_buffer_free(&empty);
    CHECK(is_empty(&empty));
}

static void test_bucket(void) {
    uint32_t bucket = 0;
    uint64_t hash = 0;
    CHECK(pennon_bucket(S("new-checkout"), S("user-1"), &bucket, &hash) == PENNON_OK);
    CHECK(hash == 3365944948836531778ULL && bucket == 18246);
    CHECK(pennon_bucket(S("new-checkout"), S("user-1"), NULL, NULL) == PENNON_OK);
    CHECK(pennon_bucket(NULL, 0, S("user-1"), &bucket, &hash) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `salt` is NULL"));
    CHECK(pennon_bucket(S("s"), "\xff", 1, &bucket, &hash) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `unit` is not valid UTF-8"));
}

/* ---- NULL engine and NULL arguments -------------------------------------------------------- */

static void test_null_engine(void) {
    uint64_t revision = 7;
    bool flag_value = false;
    PennonBuffer out = {(char *)"garbage", 7}; /* overwritten, never freed by the library */
    CHECK(pennon_engine_load(NULL, S(SNAPSHOT_V1)) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `engine` is NULL"));
    CHECK(pennon_engine_revision(NULL, &revision) == PENNON_INVALID_ARGUMENT && revision == 7);
    CHECK(pennon_engine_warnings_json(NULL, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(is_empty(&out));
    out.data = (char *)"garbage";
    CHECK(pennon_engine_evaluate(NULL, S("dark-mode"), NULL, 0, NULL, NULL, 0, 0, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(is_empty(&out));
    CHECK(pennon_engine_get_boolean(NULL, S("dark-mode"), NULL, 0, true, 0, &flag_value) == PENNON_INVALID_ARGUMENT);
    CHECK(flag_value == false); /* not written on failure */
    CHECK(pennon_engine_evaluate_all_json(NULL, NULL, 0, 0, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(strcmp(pennon_last_error_path(), "") == 0);
}

static void test_null_arguments(PennonEngine *engine) {
    PennonBuffer out = {NULL, 0};
    bool flag_value = false;
    CHECK(pennon_engine_load(engine, NULL, 0) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `json` is NULL"));
    CHECK(pennon_engine_evaluate(engine, NULL, 0, NULL, 0, NULL, NULL, 0, 0, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `flag` is NULL"));
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), NULL, 5, NULL, NULL, 0, 0, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `context_json` is NULL but its length is 5"));
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), NULL, 0, NULL, NULL, 0, 0, NULL) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `out` is NULL"));
    CHECK(pennon_engine_get_boolean(engine, S("dark-mode"), NULL, 0, true, 0, NULL) == PENNON_INVALID_ARGUMENT);
    CHECK(pennon_engine_revision(engine, NULL) == PENNON_INVALID_ARGUMENT);
    CHECK(pennon_engine_evaluate_ctx(engine, S("dark-mode"), NULL, NULL, NULL, 0, 0, &out) ==
          PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `context` is NULL"));
    CHECK(pennon_engine_get_boolean(engine, S("dark-mode"), NULL, 0, false, 0, &flag_value) == PENNON_OK);
    CHECK(strcmp(pennon_last_error_message(), "") == 0); /* a success clears the last error */
}

/* ---- before the first load --------------------------------------------------------------- */

static void test_before_load(PennonEngine *engine) {
    uint64_t revision = 42;
    PennonBuffer out = {NULL, 0};
    CHECK(pennon_engine_revision(engine, &revision) == PENNON_NOT_LOADED && revision == 42);
    CHECK(message_starts_with("not_loaded:"));
    CHECK(pennon_engine_warnings_json(engine, &out) == PENNON_OK && strcmp(out.data, "[]") == 0);
    pennon_buffer_free(&out);
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), S("{}"), "boolean", S("true"), 0, &out) == PENNON_OK);
    CHECK(contains(&out, "\"errorCode\":\"PROVIDER_NOT_READY\""));
    CHECK(contains(&out, "\"revision\":null"));
    CHECK(contains(&out, "\"value\":true"));
    pennon_buffer_free(&out);
    CHECK(pennon_engine_evaluate_all_json(engine, NULL, 0, 0, &out) == PENNON_OK && strcmp(out.data, "{}") == 0);
    pennon_buffer_free(&out);
    bool value = false;
    CHECK(pennon_engine_get_boolean(engine, S("dark-mode"), NULL, 0, true, 0, &value) == PENNON_OK && value);
}

/* ---- loading ------------------------------------------------------------------------------- */

static void test_load_and_keep_last_good(PennonEngine *engine) {
    uint64_t revision = 0;
    PennonBuffer out = {NULL, 0};

    CHECK(pennon_engine_load(engine, S("{\"schemaVersion\":1,")) == PENNON_INVALID_JSON);
    CHECK(message_starts_with("invalid_json: the snapshot is not JSON"));
    CHECK(pennon_engine_revision(engine, &revision) == PENNON_NOT_LOADED);

    CHECK(pennon_engine_load(engine, S(SNAPSHOT_V1)) == PENNON_OK);
    CHECK(strcmp(pennon_last_error_message(), "") == 0);
    CHECK(pennon_engine_revision(engine, &revision) == PENNON_OK && revision == 1);
    CHECK(pennon_engine_warnings_json(engine, &out) == PENNON_OK && strcmp(out.data, "[]") == 0);
    pennon_buffer_free(&out);

    /* Rejected updates keep revision 1 and its answers. */
    PennonStatus status = pennon_engine_load(engine, S("{\"schemaVersion\":2,\"revision\":9,\"flags\":{}}"));
    CHECK(status == PENNON_UNSUPPORTED_SCHEMA_VERSION);
    CHECK(strcmp(pennon_status_code(status), "unsupported_schema_version") == 0);
    CHECK(message_starts_with("unsupported_schema_version at /schemaVersion:"));
    CHECK(strcmp(pennon_last_error_path(), "/schemaVersion") == 0);
    CHECK(pennon_engine_load(engine, S("[1,2]")) == PENNON_INVALID_SNAPSHOT);
    CHECK(pennon_engine_load(engine, S("{\"schemaVersion\":1,\"revision\":-1,\"flags\":{}}")) ==
          PENNON_INVALID_SNAPSHOT);
    CHECK(strcmp(pennon_last_error_path(), "/revision") == 0);
    CHECK(pennon_engine_load(engine, "{\"\xff\":1}", 6) == PENNON_INVALID_JSON);
    CHECK(message_starts_with("invalid_json: the snapshot is not JSON: it is not valid UTF-8"));
    CHECK(pennon_engine_load(engine, S("")) == PENNON_INVALID_JSON);
    CHECK(pennon_engine_revision(engine, &revision) == PENNON_OK && revision == 1);
    bool value = false;
    CHECK(pennon_engine_get_boolean(engine, S("dark-mode"), NULL, 0, false, 0, &value) == PENNON_OK && value);

    /* The text need not be NUL-terminated: only `len` bytes are read. */
    char *unterminated = malloc(sizeof SNAPSHOT_V1 - 1);
    memcpy(unterminated, SNAPSHOT_V1, sizeof SNAPSHOT_V1 - 1);
    CHECK(pennon_engine_load(engine, unterminated, sizeof SNAPSHOT_V1 - 1) == PENNON_OK);
    free(unterminated);
}

static void test_warnings(void) {
    PennonEngine *engine = pennon_engine_new();
    PennonBuffer out = {NULL, 0};
    CHECK(pennon_engine_load(engine, S(SNAPSHOT_V2_WITH_WARNINGS)) == PENNON_OK);
    CHECK(pennon_engine_warnings_json(engine, &out) == PENNON_OK);
    CHECK(contains(&out, "{\"code\":\"unknown_field\",\"message\":"));
    CHECK(contains(&out, "\"path\":\"/colour\""));
    CHECK(contains(&out, "\"code\":\"unknown_variant\""));
    CHECK(contains(&out, "\"path\":\"/flags/broken/offVariant\""));
    pennon_buffer_free(&out);
    /* The invalid flag evaluates to PARSE_ERROR; the others are unaffected. */
    CHECK(pennon_engine_evaluate(engine, S("broken"), NULL, 0, NULL, S("false"), 0, &out) == PENNON_OK);
    CHECK(contains(&out, "\"errorCode\":\"PARSE_ERROR\"") && contains(&out, "\"value\":false"));
    pennon_buffer_free(&out);
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), NULL, 0, NULL, NULL, 0, 0, &out) == PENNON_OK);
    CHECK(contains(&out, "\"reason\":\"DISABLED\"") && contains(&out, "\"revision\":2"));
    pennon_buffer_free(&out);
    pennon_engine_free(engine);
}

/* ---- evaluation arguments ------------------------------------------------------------- */

static void test_evaluate_arguments(PennonEngine *engine) {
    PennonBuffer out = {NULL, 0};

    /* Invalid UTF-8 in the flag key, the context or the default: a programmer error. */
    CHECK(pennon_engine_evaluate(engine, "dark\xff", 5, NULL, 0, NULL, NULL, 0, 0, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `flag` is not valid UTF-8"));
    CHECK(is_empty(&out));
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), "{\"a\":\"\xc3\"}", 8, NULL, NULL, 0, 0, &out) ==
          PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: `context_json` is not valid UTF-8"));
    bool value = false;
    CHECK(pennon_engine_get_boolean(engine, "\xc3\x28", 2, NULL, 0, false, 0, &value) == PENNON_INVALID_ARGUMENT);

    /* Unknown type names ("any", like NULL, means no type check). */
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), NULL, 0, "bool", NULL, 0, 0, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: unknown type `bool`: expected boolean, string, number, object or any"));
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), NULL, 0, "any", NULL, 0, 0, &out) == PENNON_OK);
    CHECK(contains(&out, "\"reason\":\"STATIC\""));
    pennon_buffer_free(&out);
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), NULL, 0, "Boolean", NULL, 0, 0, &out) ==
          PENNON_INVALID_ARGUMENT);

    /* A default that is not JSON. */
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), NULL, 0, NULL, S("tru"), 0, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(message_starts_with("invalid_argument: the default value is not JSON"));
    CHECK(is_empty(&out));

    /* A context that is not a JSON object: an INVALID_CONTEXT result, not a failure
       (`null`, like NULL, is the empty context). */
    const char *bad_contexts[] = {"{\"targetingKey\":", "[1,2]", "\"u-1\"", ""};
    for (size_t i = 0; i < sizeof bad_contexts / sizeof bad_contexts[0]; i++) {
        CHECK(pennon_engine_evaluate(engine, S("dark-mode"), bad_contexts[i], strlen(bad_contexts[i]), "boolean",
                                     S("false"), 0, &out) == PENNON_OK);
        CHECK(contains(&out, "\"errorCode\":\"INVALID_CONTEXT\"") && contains(&out, "\"value\":false") &&
              contains(&out, "\"reason\":\"ERROR\"") && contains(&out, "\"revision\":1"));
        pennon_buffer_free(&out);
        value = true;
        CHECK(pennon_engine_get_boolean(engine, S("dark-mode"), bad_contexts[i], strlen(bad_contexts[i]), false, 0,
                                        &value) == PENNON_OK &&
              value == false);
    }

    /* Nesting: 64 levels of objects (the context object included) are fine, 65 are not. */
    for (int levels = 64; levels <= 65; levels++) {
        char *text = malloc((size_t)levels * 6 + 2);
        size_t n = 0;
        for (int i = 1; i < levels; i++) n += (size_t)sprintf(text + n, "{\"a\":");
        n += (size_t)sprintf(text + n, "{}");
        for (int i = 1; i < levels; i++) text[n++] = '}';
        text[n] = '\0';
        CHECK(pennon_engine_evaluate(engine, S("dark-mode"), text, n, NULL, NULL, 0, 0, &out) == PENNON_OK);
        CHECK(levels == 64 ? contains(&out, "\"reason\":\"STATIC\"")
                           : contains(&out, "\"errorCode\":\"INVALID_CONTEXT\""));
        pennon_buffer_free(&out);
        PennonContext *context = NULL;
        PennonStatus status = pennon_context_new_json(text, n, &context);
        CHECK(levels == 64 ? status == PENNON_OK && context != NULL
                           : status == PENNON_INVALID_CONTEXT && context == NULL);
        pennon_context_free(context);
        free(text);
    }

    /* Evaluation problems come back in the result with the default. */
    CHECK(pennon_engine_evaluate(engine, S("no-such-flag"), NULL, 0, NULL, S("{\"x\":1}"), 0, &out) == PENNON_OK);
    CHECK(contains(&out, "\"errorCode\":\"FLAG_NOT_FOUND\"") && contains(&out, "\"value\":{\"x\":1}"));
    pennon_buffer_free(&out);
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), NULL, 0, "string", S("\"d\""), 0, &out) == PENNON_OK);
    CHECK(contains(&out, "\"errorCode\":\"TYPE_MISMATCH\"") && contains(&out, "\"value\":\"d\"") &&
          contains(&out, "\"flagMetadata\":{\"owner\":\"web\"}"));
    pennon_buffer_free(&out);
    /* Rollouts need a targeting key. */
    CHECK(pennon_engine_evaluate(engine, S("gated"), S("{}"), "boolean", S("false"), 0, &out) == PENNON_OK);
    CHECK(contains(&out, "\"errorCode\":\"TARGETING_KEY_MISSING\""));
    pennon_buffer_free(&out);

    /* The canonical form, byte for byte. */
    CHECK(pennon_engine_evaluate(engine, S("dark-mode"), S("{\"targetingKey\":\"u-1\"}"), "boolean", S("false"),
                                 1795000000000LL, &out) == PENNON_OK);
    CHECK(strcmp(out.data, "{\"errorCode\":null,\"errorMessage\":null,\"flagMetadata\":{\"owner\":\"web\"},"
                           "\"reason\":\"STATIC\",\"revision\":1,\"ruleId\":null,\"shadowVariant\":null,"
                           "\"stage\":null,\"value\":true,\"variant\":\"on\"}") == 0);
    CHECK(out.len == strlen(out.data));
    pennon_buffer_free(&out);
    CHECK(is_empty(&out));
}

static void test_typed_getters(PennonEngine *engine) {
    PennonBuffer out = {NULL, 0};
    double number = 0;
    CHECK(pennon_engine_get_number(engine, S("retries"), NULL, 0, 1.0, 0, &number) == PENNON_OK && number == 3.5);
    CHECK(pennon_engine_get_number(engine, S("dark-mode"), NULL, 0, 1.0, 0, &number) == PENNON_OK && number == 1.0);

    /* A string value with an embedded NUL: `len` is authoritative. */
    CHECK(pennon_engine_get_string(engine, S("greeting"), NULL, 0, S("dflt"), 0, &out) == PENNON_OK);
    CHECK(out.len == 11 && memcmp(out.data, "hello\0world", 11) == 0 && out.data[11] == '\0');
    pennon_buffer_free(&out);
    CHECK(pennon_engine_get_string(engine, S("retries"), NULL, 0, S("dflt"), 0, &out) == PENNON_OK);
    CHECK(out.len == 4 && strcmp(out.data, "dflt") == 0);
    pennon_buffer_free(&out);
    CHECK(pennon_engine_get_string(engine, S("nope"), NULL, 0, NULL, 0, 0, &out) == PENNON_OK);
    CHECK(out.len == 0 && out.data != NULL && out.data[0] == '\0');
    pennon_buffer_free(&out);
    CHECK(pennon_engine_get_string(engine, S("nope"), NULL, 0, "\xff", 1, 0, &out) == PENNON_INVALID_ARGUMENT);
    CHECK(is_empty(&out));

    CHECK(pennon_engine_get_object(engine, S("limits"), NULL, 0, S("{}"), 0, &out) == PENNON_OK);
    CHECK(strcmp(out.data, "{\"a\":[1,\"é\"],\"b\":2}") == 0);
    pennon_buffer_free(&out);
    CHECK(pennon_engine_get_object(engine, S("nope"), NULL, 0, S("{ \"z\" : 1.0 , \"y\":[] }"), 0, &out) == PENNON_OK);
    CHECK(strcmp(out.data, "{\"y\":[],\"z\":1}") == 0);
    pennon_buffer_free(&out);

    CHECK(pennon_engine_evaluate_all_json(engine, S("{\"targetingKey\":\"u-1\"}"), 0, &out) == PENNON_OK);
    CHECK(strncmp(out.data, "{\"dark-mode\":{", 14) == 0 && contains(&out, "\"gated\":{") &&
          contains(&out, "\"retries\":{"));
    pennon_buffer_free(&out);
    CHECK(pennon_engine_evaluate_all_json(engine, S("[]"), 0, &out) == PENNON_OK);
    CHECK(contains(&out, "\"dark-mode\":{\"errorCode\":\"INVALID_CONTEXT\""));
    pennon_buffer_free(&out);
}

static void test_context_handles(PennonEngine *engine) {
    PennonContext *context = (PennonContext *)&context; /* overwritten with NULL on failure */
    CHECK(pennon_context_new_json(S("[1]"), &context) == PENNON_INVALID_CONTEXT && context == NULL);
    CHECK(message_starts_with("invalid_context: the context must be an object"));
    CHECK(pennon_context_new_json(S("{"), &context) == PENNON_INVALID_CONTEXT && context == NULL);
    CHECK(pennon_context_new_json("{\"\xff\":1}", 6, &context) == PENNON_INVALID_ARGUMENT && context == NULL);
    CHECK(pennon_context_new_json(S("{}"), NULL) == PENNON_INVALID_ARGUMENT);

    CHECK(pennon_context_new_json(S("{\"targetingKey\":\"u-1\"}"), &context) == PENNON_OK && context != NULL);
    PennonBuffer a = {NULL, 0}, b = {NULL, 0};
    CHECK(pennon_engine_evaluate(engine, S("gated"), S("{\"targetingKey\":\"u-1\"}"), NULL, NULL, 0, 5, &a) ==
          PENNON_OK);
    CHECK(pennon_engine_evaluate_ctx(engine, S("gated"), context, NULL, NULL, 0, 5, &b) == PENNON_OK);
    CHECK(a.len == b.len && strcmp(a.data, b.data) == 0 && contains(&b, "\"reason\":\"SPLIT\""));
    pennon_buffer_free(&a);
    pennon_buffer_free(&b);
    bool value = false;
    CHECK(pennon_engine_get_boolean_ctx(engine, S("gated"), context, false, 5, &value) == PENNON_OK && value);
    double number = 0;
    CHECK(pennon_engine_get_number_ctx(engine, S("retries"), context, 0, 5, &number) == PENNON_OK && number == 3.5);
    CHECK(pennon_engine_get_string_ctx(engine, S("nope"), context, S("x"), 5, &a) == PENNON_OK && strcmp(a.data, "x") == 0);
    pennon_buffer_free(&a);
    CHECK(pennon_engine_get_object_ctx(engine, S("limits"), context, NULL, 0, 5, &a) == PENNON_OK &&
          contains(&a, "\"b\":2"));
    pennon_buffer_free(&a);
    CHECK(pennon_engine_evaluate_all_ctx(engine, context, 5, &a) == PENNON_OK && contains(&a, "\"gated\":{"));
    pennon_buffer_free(&a);
    pennon_context_free(context);

    /* NULL / 0 is the empty context. */
    CHECK(pennon_context_new_json(NULL, 0, &context) == PENNON_OK);
    CHECK(pennon_engine_evaluate_ctx(engine, S("gated"), context, NULL, NULL, 0, 5, &a) == PENNON_OK &&
          contains(&a, "TARGETING_KEY_MISSING"));
    pennon_buffer_free(&a);
    pennon_context_free(context);
}

/* ---- threads ------------------------------------------------------------------------------ */

struct thread_args {
    PennonEngine *engine;
    int ok;
};

/* The last error is per thread: a failure here does not show on the main thread. */
static void *fail_on_another_thread(void *arg) {
    struct thread_args *args = arg;
    args->ok = strcmp(pennon_last_error_message(), "") == 0;
    args->ok &= pennon_engine_load(args->engine, S("nope")) == PENNON_INVALID_JSON;
    args->ok &= message_starts_with("invalid_json:");
    return NULL;
}

static void *evaluate_many(void *arg) {
    struct thread_args *args = arg;
    args->ok = 1;
    for (int i = 0; i < 200; i++) {
        bool value = false;
        args->ok &= pennon_engine_get_boolean(args->engine, S("dark-mode"), S("{\"targetingKey\":\"t\"}"), false, 0,
                                              &value) == PENNON_OK;
        uint64_t revision = 0;
        args->ok &= pennon_engine_revision(args->engine, &revision) == PENNON_OK && (revision == 1 || revision == 2);
        /* revision 1 serves true, revision 2 (state off) false: either is a whole snapshot */
        (void)value;
    }
    return NULL;
}

static void test_threads(PennonEngine *engine) {
    CHECK(pennon_engine_load(engine, S("{")) == PENNON_INVALID_JSON);
    struct thread_args args = {engine, 0};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, fail_on_another_thread, &args) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(args.ok);
    CHECK(message_starts_with("invalid_json:")); /* still this thread's own message */

    /* Concurrent evaluation while the snapshot is swapped back and forth. */
    struct thread_args readers[2] = {{engine, 0}, {engine, 0}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&threads[i], NULL, evaluate_many, &readers[i]) == 0);
    for (int i = 0; i < 20; i++) {
        CHECK(pennon_engine_load(engine, S(SNAPSHOT_V2_WITH_WARNINGS)) == PENNON_OK);
        CHECK(pennon_engine_load(engine, S(SNAPSHOT_V1)) == PENNON_OK);
    }
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(readers[i].ok);
    }
}

int main(void) {
    test_status_codes();
    test_null_tolerant_frees();
    test_bucket();
    test_null_engine();

    PennonEngine *engine = pennon_engine_new();
    CHECK(engine != NULL);
    test_null_arguments(engine);
    test_before_load(engine);
    test_load_and_keep_last_good(engine);
    test_warnings();
    test_evaluate_arguments(engine);
    test_typed_getters(engine);
    test_context_handles(engine);
    test_threads(engine);
    pennon_engine_free(engine);

    printf("C error paths (libpennon %s)\n", pennon_version());
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
