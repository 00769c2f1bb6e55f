/*
 * The C conformance runner of Pennon (tests/conformance/README.md), linked against
 * libpennon. Two modes:
 *
 *   conformance_runner [SUITE_DIR]
 *       Runs every case file of SUITE_DIR/cases (default: tests/conformance): loads the
 *       snapshot (inline: its exact text in the case file; snapshotFile: the raw bytes of
 *       the file), checks the load error or the load warning codes, evaluates every case
 *       (context and default: their exact text too) and compares the result with `expect`,
 *       then checks the bucketing vectors. cJSON reads the files and the results.
 *       Every case also cross-checks the context-handle API (byte-identical result) and the
 *       typed getter of its type. Prints "N passed, N failed"; exits 1 on any failure.
 *
 *   conformance_runner --differential IN.jsonl OUT.jsonl [--root DIR]
 *       Differential mode (docs/bindings.md): one request per input line, one canonical
 *       result per output line. Snapshot paths are relative to DIR (default: the current
 *       directory, meant to be the repository root) and loaded once each. The request's
 *       `context` and `default` are handed to the library as the exact bytes of the input
 *       line (no re-serialisation). A call the library refuses gives its error object
 *       {"error":{"code","message","path"}}, as every binding's runner writes it; a snapshot
 *       that fails to load gives {"error":"<status code>"}.
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pennon.h"

static int passed;
static int failed;

/* ---- small helpers ------------------------------------------------------------------- */

static void *xmalloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = xmalloc(n);
    memcpy(copy, s, n);
    return copy;
}

static char *join_path(const char *dir, const char *name) {
    if (name[0] == '/' || dir == NULL || dir[0] == '\0') return xstrdup(name);
    size_t a = strlen(dir), b = strlen(name);
    char *path = xmalloc(a + b + 2);
    memcpy(path, dir, a);
    path[a] = '/';
    memcpy(path + a + 1, name, b + 1);
    return path;
}

/* Reads a whole file; NUL-terminated; *len excludes the NUL. NULL when unreadable. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static void report_failure(const char *label, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "FAIL %s: ", label);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

/* JSON equality where numbers compare numerically and objects deeply (key order free). */
static bool same_json(const cJSON *a, const cJSON *b) {
    bool a_null = a == NULL || cJSON_IsNull(a);
    bool b_null = b == NULL || cJSON_IsNull(b);
    if (a_null || b_null) return a_null && b_null;
    if (cJSON_IsBool(a) || cJSON_IsBool(b))
        return cJSON_IsBool(a) && cJSON_IsBool(b) && cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (cJSON_IsNumber(a) || cJSON_IsNumber(b))
        return cJSON_IsNumber(a) && cJSON_IsNumber(b) && a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) || cJSON_IsString(b))
        return cJSON_IsString(a) && cJSON_IsString(b) && strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) || cJSON_IsArray(b)) {
        if (!cJSON_IsArray(a) || !cJSON_IsArray(b)) return false;
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return false;
        const cJSON *y = b->child;
        for (const cJSON *x = a->child; x; x = x->next, y = y->next)
            if (!same_json(x, y)) return false;
        return true;
    }
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return false;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !same_json(x, y)) return false;
        }
        return true;
    }
    return false;
}

/* A printable form of an optional JSON value (caller frees with cJSON_free). */
static char *show(const cJSON *value) {
    if (!value) return NULL;
    return cJSON_PrintUnformatted(value);
}

static const char *string_member(const cJSON *object, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* ---- exact source text of JSON values ------------------------------------------------------
 *
 * What the runner hands to the library (snapshots, contexts, defaults) is the exact text of
 * the case file, not a re-serialisation: cJSON_PrintUnformatted prints numbers with 15
 * significant digits whenever its approximate comparison calls that close enough, which
 * turns 0.30000000000000004 into 0.3 and 9007199254740991 into 9007199254740990 (the
 * numeric-operator and 2^53 bucketing cases caught it). cJSON is used to read the files;
 * these few functions find where a value starts and ends in text cJSON already validated. */

/* Skips whitespace. */
static size_t skip_ws(const char *s, size_t i, size_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

/* Index just past the JSON string starting at s[i] == '"'. */
static size_t skip_string(const char *s, size_t i, size_t n) {
    for (i++; i < n; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return n;
}

/* Index just past the JSON value starting at s[i] (the text is known to be valid JSON). */
static size_t skip_value(const char *s, size_t i, size_t n) {
    if (i >= n) return n;
    if (s[i] == '"') return skip_string(s, i, n);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < n) {
            char ch = s[i];
            if (ch == '"') {
                i = skip_string(s, i, n);
                continue;
            }
            if (ch == '{' || ch == '[') depth++;
            else if (ch == '}' || ch == ']') {
                if (--depth == 0) return i + 1;
            }
            i++;
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
           s[i] != '\n')
        i++;
    return i;
}

/* Finds the exact text of the value of top-level member `key` (written without escapes)
 * in the JSON object `s`. Returns false when absent. */
static bool find_member(const char *s, size_t n, const char *key, const char **start, size_t *len) {
    size_t key_len = strlen(key);
    size_t i = skip_ws(s, 0, n);
    if (i >= n || s[i] != '{') return false;
    i++;
    while (true) {
        i = skip_ws(s, i, n);
        if (i >= n || s[i] != '"') return false;
        size_t key_start = i + 1, key_end = skip_string(s, i, n) - 1;
        i = skip_ws(s, key_end + 1, n);
        if (i >= n || s[i] != ':') return false;
        i = skip_ws(s, i + 1, n);
        size_t value_end = skip_value(s, i, n);
        if (key_end - key_start == key_len && memcmp(s + key_start, key, key_len) == 0) {
            *start = s + i;
            *len = value_end - i;
            return true;
        }
        i = skip_ws(s, value_end, n);
        if (i >= n || s[i] != ',') return false;
        i++;
    }
}

/* The next element of the JSON array `s` (n bytes); *cursor starts at 0. */
static bool next_element(const char *s, size_t n, size_t *cursor, const char **start, size_t *len) {
    size_t i = *cursor;
    if (i == 0) {
        i = skip_ws(s, 0, n);
        if (i >= n || s[i] != '[') return false;
        i++;
    }
    i = skip_ws(s, i, n);
    if (i < n && s[i] == ',') i = skip_ws(s, i + 1, n);
    if (i >= n || s[i] == ']') return false;
    size_t end = skip_value(s, i, n);
    *start = s + i;
    *len = end - i;
    *cursor = end;
    return true;
}

/* ---- one case --------------------------------------------------------------------- */

static const char *const COMPARED[] = {"value",  "variant",       "reason",   "ruleId",
                                       "stage",  "shadowVariant", "errorCode"};

/* Compares a result with `expect`; prints and counts problems. Returns true when equal. */
static bool compare_result(const char *label, const cJSON *expect, const cJSON *actual,
                           uint64_t revision, const char *raw) {
    bool ok = true;
    for (size_t i = 0; i < sizeof COMPARED / sizeof COMPARED[0]; i++) {
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(expect, COMPARED[i]);
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(actual, COMPARED[i]);
        if (!same_json(want, got)) {
            char *w = show(want), *g = show(got);
            report_failure(label, "%s: expected %s, got %s (result %s)", COMPARED[i], w ? w : "null",
                           g ? g : "(absent)", raw);
            cJSON_free(w);
            cJSON_free(g);
            ok = false;
        }
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(actual, "errorCode");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(actual, "errorMessage");
    bool has_error = code != NULL && !cJSON_IsNull(code);
    bool message_ok = has_error ? (cJSON_IsString(message) && message->valuestring[0] != '\0')
                                : (message != NULL && cJSON_IsNull(message));
    if (!message_ok) {
        report_failure(label, "errorMessage does not fit errorCode (result %s)", raw);
        ok = false;
    }
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(actual, "revision");
    if (!cJSON_IsNumber(rev) || rev->valuedouble != (double)revision) {
        report_failure(label, "revision: expected %" PRIu64 " (result %s)", revision, raw);
        ok = false;
    }
    const cJSON *want_metadata = cJSON_GetObjectItemCaseSensitive(expect, "flagMetadata");
    if (want_metadata && !same_json(want_metadata, cJSON_GetObjectItemCaseSensitive(actual, "flagMetadata"))) {
        report_failure(label, "flagMetadata differs (result %s)", raw);
        ok = false;
    }
    /* All ten fields are present in a canonical result. */
    if (cJSON_GetArraySize(actual) != 10) {
        report_failure(label, "the result has %d fields, not 10 (result %s)", cJSON_GetArraySize(actual), raw);
        ok = false;
    }
    return ok;
}

/* The typed getter of the case's type agrees with the expected value (when the default
 * and the expected value have that type, so that the getter can express them). */
static bool check_getter(const char *label, PennonEngine *engine, const char *flag, const char *type,
                         const char *context, size_t context_len, const cJSON *default_value,
                         const char *default_text, size_t default_len, const cJSON *expected, int64_t now) {
    if (!type) return true;
    size_t flag_len = strlen(flag);
    PennonStatus status = PENNON_OK;
    bool ok = true;
    if (strcmp(type, "boolean") == 0 && cJSON_IsBool(default_value) && cJSON_IsBool(expected)) {
        bool got = !cJSON_IsTrue(expected);
        status = pennon_engine_get_boolean(engine, flag, flag_len, context, context_len,
                                           cJSON_IsTrue(default_value), now, &got);
        ok = status == PENNON_OK && got == (bool)cJSON_IsTrue(expected);
    } else if (strcmp(type, "number") == 0 && cJSON_IsNumber(default_value) && cJSON_IsNumber(expected)) {
        double got = 0;
        status = pennon_engine_get_number(engine, flag, flag_len, context, context_len,
                                          default_value->valuedouble, now, &got);
        ok = status == PENNON_OK && got == expected->valuedouble;
    } else if (strcmp(type, "string") == 0 && cJSON_IsString(default_value) && cJSON_IsString(expected)) {
        PennonBuffer got = {NULL, 0};
        const char *d = default_value->valuestring;
        status = pennon_engine_get_string(engine, flag, flag_len, context, context_len, d, strlen(d), now, &got);
        ok = status == PENNON_OK && got.len == strlen(expected->valuestring) &&
             memcmp(got.data, expected->valuestring, got.len) == 0;
        pennon_buffer_free(&got);
    } else if (strcmp(type, "object") == 0 && default_text && cJSON_IsObject(expected)) {
        PennonBuffer got = {NULL, 0};
        status = pennon_engine_get_object(engine, flag, flag_len, context, context_len, default_text, default_len,
                                          now, &got);
        cJSON *parsed = status == PENNON_OK ? cJSON_ParseWithLength(got.data, got.len) : NULL;
        ok = parsed != NULL && same_json(parsed, expected);
        cJSON_Delete(parsed);
        pennon_buffer_free(&got);
    }
    if (!ok)
        report_failure(label, "typed getter for %s disagrees (status %s: %s)", type, pennon_status_code(status),
                       pennon_last_error_message());
    return ok;
}

/* Runs one case; `raw` is its exact text in the case file. */
static void run_case(const char *file_label, PennonEngine *engine, uint64_t revision, const cJSON *c,
                     const char *raw, size_t raw_len, const cJSON *file_now) {
    const char *name = string_member(c, "name");
    size_t label_len = strlen(file_label) + (name ? strlen(name) : 1) + 8;
    char *label = xmalloc(label_len);
    snprintf(label, label_len, "%s > %s", file_label, name ? name : "?");

    const char *flag = string_member(c, "flag");
    const char *type = string_member(c, "type");
    const cJSON *now_item = cJSON_GetObjectItemCaseSensitive(c, "now");
    if (!cJSON_IsNumber(now_item)) now_item = file_now;
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
    if (!flag || !type || !cJSON_IsNumber(now_item) || !cJSON_IsObject(expect)) {
        report_failure(label, "malformed case (flag, type, now and expect are required)");
        failed++;
        free(label);
        return;
    }
    int64_t now = (int64_t)now_item->valuedouble;
    const char *type_arg = strcmp(type, "any") == 0 ? NULL : type;

    /* Context and default: their exact text; no context is the empty one, no default null. */
    const char *context = "{}", *default_text = NULL;
    size_t context_len = 2, default_len = 0;
    find_member(raw, raw_len, "context", &context, &context_len);
    find_member(raw, raw_len, "default", &default_text, &default_len);
    const cJSON *default_item = cJSON_GetObjectItemCaseSensitive(c, "default");

    bool ok = true;
    PennonBuffer out = {NULL, 0};
    PennonStatus status = pennon_engine_evaluate(engine, flag, strlen(flag), context, context_len, type_arg,
                                                 default_text, default_len, now, &out);
    cJSON *result = status == PENNON_OK ? cJSON_ParseWithLength(out.data, out.len) : NULL;
    if (!result) {
        report_failure(label, "evaluate failed: %s: %s", pennon_status_code(status), pennon_last_error_message());
        ok = false;
    } else {
        ok = compare_result(label, expect, result, revision, out.data);

        /* The context-handle API gives the very same bytes. */
        PennonContext *handle = NULL;
        PennonBuffer again = {NULL, 0};
        status = pennon_context_new_json(context, context_len, &handle);
        if (status == PENNON_OK)
            status = pennon_engine_evaluate_ctx(engine, flag, strlen(flag), handle, type_arg, default_text,
                                                default_len, now, &again);
        if (status != PENNON_OK || again.len != out.len || memcmp(again.data, out.data, out.len) != 0) {
            report_failure(label, "evaluate_ctx differs: %s %s", pennon_status_code(status),
                           again.data ? again.data : "");
            ok = false;
        }
        pennon_buffer_free(&again);
        pennon_context_free(handle);

        const cJSON *expected_value = cJSON_GetObjectItemCaseSensitive(expect, "value");
        ok = check_getter(label, engine, flag, type_arg, context, context_len, default_item, default_text,
                          default_len, expected_value, now) &&
             ok;
    }
    if (ok) passed++;
    else failed++;
    cJSON_Delete(result);
    pennon_buffer_free(&out);
    free(label);
}

/* ---- one case file ------------------------------------------------------------------- */

static void run_file(const char *suite, const char *name) {
    char *cases_dir = join_path(suite, "cases");
    char *path = join_path(cases_dir, name);
    free(cases_dir);
    size_t text_len = 0;
    char *text = read_file(path, &text_len);
    cJSON *file = text ? cJSON_ParseWithLength(text, text_len) : NULL;
    if (!file) {
        report_failure(name, "cannot read or parse %s", path);
        failed++;
        free(text);
        free(path);
        return;
    }
    free(path);

    /* The snapshot text: inline → its exact text in the case file; snapshotFile → the
     * file's bytes (which need not be JSON: load-error cases). */
    const cJSON *inline_snapshot = cJSON_GetObjectItemCaseSensitive(file, "snapshot");
    const char *snapshot_file = string_member(file, "snapshotFile");
    char *snapshot_copy = NULL;
    const char *snapshot = NULL;
    size_t snapshot_len = 0;
    if (inline_snapshot && !snapshot_file) {
        find_member(text, text_len, "snapshot", &snapshot, &snapshot_len);
    } else if (snapshot_file && !inline_snapshot) {
        char *snapshot_path = join_path(suite, snapshot_file);
        snapshot_copy = read_file(snapshot_path, &snapshot_len);
        snapshot = snapshot_copy;
        free(snapshot_path);
    }
    if (!snapshot) {
        report_failure(name, "exactly one readable snapshot / snapshotFile is required");
        failed++;
        cJSON_Delete(file);
        free(text);
        return;
    }

    const cJSON *load = cJSON_GetObjectItemCaseSensitive(file, "load");
    const char *expected_error = string_member(load, "error");
    PennonEngine *engine = pennon_engine_new();
    PennonStatus status = pennon_engine_load(engine, snapshot, snapshot_len);
    free(snapshot_copy);

    if (expected_error) {
        const char *message = pennon_last_error_message();
        size_t code_len = strlen(expected_error);
        if (status != PENNON_OK && strcmp(pennon_status_code(status), expected_error) == 0 &&
            strncmp(message, expected_error, code_len) == 0) {
            passed++;
        } else {
            report_failure(name, "expected load error %s, got %s (%s)", expected_error, pennon_status_code(status),
                           message);
            failed++;
        }
        /* A failed load leaves the engine without a snapshot. */
        uint64_t revision = 0;
        if (pennon_engine_revision(engine, &revision) != PENNON_NOT_LOADED) {
            report_failure(name, "an engine whose only load failed reports a revision");
            failed++;
        }
        pennon_engine_free(engine);
        cJSON_Delete(file);
        free(text);
        return;
    }
    if (status != PENNON_OK) {
        report_failure(name, "load failed: %s", pennon_last_error_message());
        failed++;
        pennon_engine_free(engine);
        cJSON_Delete(file);
        free(text);
        return;
    }

    /* Load warnings: the codes, in the order reported. */
    PennonBuffer warnings = {NULL, 0};
    status = pennon_engine_warnings_json(engine, &warnings);
    cJSON *actual = status == PENNON_OK ? cJSON_ParseWithLength(warnings.data, warnings.len) : NULL;
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(load, "warnings");
    bool warnings_ok = cJSON_IsArray(actual) && cJSON_GetArraySize(actual) == cJSON_GetArraySize(expected);
    if (warnings_ok) {
        const cJSON *want = expected ? expected->child : NULL;
        for (const cJSON *got = actual->child; got; got = got->next, want = want->next) {
            const char *code = string_member(got, "code");
            if (!cJSON_IsString(want) || !code || strcmp(code, want->valuestring) != 0) warnings_ok = false;
        }
    }
    if (warnings_ok) passed++;
    else {
        report_failure(name, "load warnings %s differ from the expected codes", warnings.data ? warnings.data : "?");
        failed++;
    }
    cJSON_Delete(actual);
    pennon_buffer_free(&warnings);

    uint64_t revision = 0;
    if (pennon_engine_revision(engine, &revision) != PENNON_OK) {
        report_failure(name, "no revision after a successful load");
        failed++;
    }
    const cJSON *snapshot_revision = cJSON_GetObjectItemCaseSensitive(inline_snapshot, "revision");
    if (cJSON_IsNumber(snapshot_revision) && snapshot_revision->valuedouble != (double)revision) {
        report_failure(name, "revision %" PRIu64 " differs from the snapshot's", revision);
        failed++;
    }

    const cJSON *file_now = cJSON_GetObjectItemCaseSensitive(file, "now");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(file, "cases");
    const char *raw_cases = NULL, *raw_case = NULL;
    size_t raw_cases_len = 0, raw_case_len = 0, cursor = 0;
    find_member(text, text_len, "cases", &raw_cases, &raw_cases_len);
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        if (!next_element(raw_cases, raw_cases_len, &cursor, &raw_case, &raw_case_len)) {
            report_failure(name, "cannot locate the text of a case");
            failed++;
            break;
        }
        run_case(name, engine, revision, c, raw_case, raw_case_len, file_now);
    }

    pennon_engine_free(engine);
    cJSON_Delete(file);
    free(text);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_bucketing(const char *suite) {
    char *path = join_path(suite, "bucketing.json");
    char *text = read_file(path, NULL);
    free(path);
    cJSON *file = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *vectors = cJSON_GetObjectItemCaseSensitive(file, "vectors");
    if (cJSON_GetArraySize(vectors) < 20) {
        report_failure("bucketing.json", "missing or too few vectors");
        failed++;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, vectors) {
        const char *salt = string_member(v, "salt"), *unit = string_member(v, "unit");
        const char *hash_text = string_member(v, "hash");
        const cJSON *want_bucket = cJSON_GetObjectItemCaseSensitive(v, "bucket");
        uint32_t bucket = UINT32_MAX;
        uint64_t hash = 0;
        PennonStatus status = salt && unit ? pennon_bucket(salt, strlen(salt), unit, strlen(unit), &bucket, &hash)
                                           : PENNON_INVALID_ARGUMENT;
        uint64_t want_hash = hash_text ? strtoull(hash_text, NULL, 10) : 0;
        if (status == PENNON_OK && hash_text && hash == want_hash && cJSON_IsNumber(want_bucket) &&
            (double)bucket == want_bucket->valuedouble) {
            passed++;
        } else {
            report_failure("bucketing.json", "salt %s unit %s: hash %" PRIu64 " bucket %" PRIu32,
                           salt ? salt : "?", unit ? unit : "?", hash, bucket);
            failed++;
        }
    }
    cJSON_Delete(file);
}

/* An engine holding `snapshot` (a parsed JSON object), or NULL when it does not load. */
static PennonEngine *engine_of(const cJSON *snapshot) {
    char *text = cJSON_PrintUnformatted(snapshot);
    PennonEngine *engine = pennon_engine_new();
    if (!text || !engine || pennon_engine_load(engine, text, strlen(text)) != PENNON_OK) {
        pennon_engine_free(engine);
        engine = NULL;
    }
    free(text);
    return engine;
}

/* `pennon_engine_changed_flags_json(engine, previous)` as text, or NULL on failure. */
static char *changed_flags(const PennonEngine *engine, const PennonEngine *previous) {
    PennonBuffer out;
    if (pennon_engine_changed_flags_json(engine, previous, &out) != PENNON_OK) return NULL;
    char *text = xmalloc(out.len + 1);
    memcpy(text, out.data, out.len);
    text[out.len] = '\0';
    pennon_buffer_free(&out);
    return text;
}

/* One direction of a changes.json case: the keys must equal `want` (canonical JSON). */
static void check_changes(const char *name, const char *direction, const PennonEngine *engine,
                          const PennonEngine *previous, const char *want) {
    char *got = changed_flags(engine, previous);
    if (got && strcmp(got, want) == 0) {
        passed++;
    } else {
        report_failure("changes.json", "%s (%s): got %s, want %s", name, direction, got ? got : "(failed call)", want);
        failed++;
    }
    free(got);
}

/*
 * changes.json: core's changed flags (Snapshot::changed_flags) through the C ABI, both ways
 * round, a snapshot against itself, and an engine without a snapshot as the empty one.
 */
static void run_changes(const char *suite) {
    char *path = join_path(suite, "changes.json");
    char *text = read_file(path, NULL);
    free(path);
    cJSON *file = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (cJSON_GetArraySize(file) < 10) {
        report_failure("changes.json", "missing or too few cases");
        failed++;
    }
    PennonEngine *empty = pennon_engine_new();
    const cJSON *c;
    cJSON_ArrayForEach(c, file) {
        const char *name = string_member(c, "name");
        char *want = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "changed"));
        PennonEngine *before = engine_of(cJSON_GetObjectItemCaseSensitive(c, "before"));
        PennonEngine *after = engine_of(cJSON_GetObjectItemCaseSensitive(c, "after"));
        if (!name || !want || !before || !after) {
            report_failure("changes.json", "%s: a snapshot of the case does not load", name ? name : "?");
            failed++;
        } else {
            check_changes(name, "forward", after, before, want);
            check_changes(name, "reversed", before, after, want);
            check_changes(name, "against itself", after, after, "[]");
        }
        if (after) {
            /* Against an engine without a snapshot: every key of the loaded one. */
            const cJSON *flags = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "after"), "flags");
            size_t count = 0;
            const char **sorted = xmalloc(((size_t)cJSON_GetArraySize(flags) + 1) * sizeof *sorted);
            const cJSON *flag;
            cJSON_ArrayForEach(flag, flags) sorted[count++] = flag->string;
            qsort(sorted, count, sizeof *sorted, compare_names);
            cJSON *keys = cJSON_CreateStringArray(sorted, (int)count);
            char *all = keys ? cJSON_PrintUnformatted(keys) : NULL;
            check_changes(name ? name : "?", "from empty", after, empty, all ? all : "(no keys)");
            free(all);
            cJSON_Delete(keys);
            free(sorted);
        }
        pennon_engine_free(before);
        pennon_engine_free(after);
        free(want);
    }
    if (pennon_engine_changed_flags_json(empty, NULL, NULL) != PENNON_INVALID_ARGUMENT) {
        report_failure("changes.json", "NULL arguments are not refused");
        failed++;
    }
    pennon_engine_free(empty);
    cJSON_Delete(file);
}

static int run_suite(const char *suite) {
    char *cases_dir = join_path(suite, "cases");
    DIR *dir = opendir(cases_dir);
    if (!dir) {
        fprintf(stderr, "cannot open %s\n", cases_dir);
        free(cases_dir);
        return 2;
    }
    free(cases_dir);
    size_t count = 0, cap = 64;
    char **names = xmalloc(cap * sizeof *names);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        size_t n = strlen(entry->d_name);
        if (n > 5 && strcmp(entry->d_name + n - 5, ".json") == 0) {
            if (count == cap) {
                cap *= 2;
                char **bigger = realloc(names, cap * sizeof *names);
                if (!bigger) {
                    fprintf(stderr, "out of memory\n");
                    exit(2);
                }
                names = bigger;
            }
            names[count++] = xstrdup(entry->d_name);
        }
    }
    closedir(dir);
    qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count; i++) {
        run_file(suite, names[i]);
        free(names[i]);
    }
    free(names);
    run_bucketing(suite);
    run_changes(suite);
    printf("C conformance (%zu case files, libpennon %s)\n", count, pennon_version());
    printf("%d passed, %d failed\n", passed, failed);
    if (count == 0 || passed < 400) {
        fprintf(stderr, "too few cases ran (%d): is %s the conformance suite?\n", passed, suite);
        return 1;
    }
    return failed == 0 ? 0 : 1;
}

/* ---- differential mode ----------------------------------------------------------------- */

struct cached_engine {
    char *path;
    PennonEngine *engine;
    PennonStatus status;
};

/*
 * {"error":{"code","message","path"}} for the status of a failed call: the code, the
 * thread's last error message and path (null when empty), as every binding's runner writes
 * a refused request. Keys are already in canonical order. The caller frees the text.
 */
static char *thrown_json(PennonStatus status) {
    cJSON *line = cJSON_CreateObject(), *error = cJSON_CreateObject();
    if (!line || !error) {
        cJSON_Delete(line);
        cJSON_Delete(error);
        return NULL;
    }
    cJSON_AddItemToObject(line, "error", error);
    const char *path = pennon_last_error_path();
    cJSON_AddStringToObject(error, "code", pennon_status_code(status));
    cJSON_AddStringToObject(error, "message", pennon_last_error_message());
    if (path && *path)
        cJSON_AddStringToObject(error, "path", path);
    else
        cJSON_AddNullToObject(error, "path");
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    return text;
}

static int run_differential(const char *in_path, const char *out_path, const char *root) {
    FILE *in = fopen(in_path, "rb");
    if (!in) {
        fprintf(stderr, "cannot read %s\n", in_path);
        return 2;
    }
    FILE *out = fopen(out_path, "wb");
    if (!out) {
        fprintf(stderr, "cannot write %s\n", out_path);
        fclose(in);
        return 2;
    }
    struct cached_engine *cache = NULL;
    size_t cached = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t line_len;
    long line_number = 0, errors = 0;
    while ((line_len = getline(&line, &line_cap, in)) != -1) {
        line_number++;
        while (line_len > 0 && (line[line_len - 1] == '\n' || line[line_len - 1] == '\r')) line[--line_len] = '\0';
        if (line_len == 0) continue;
        cJSON *request = cJSON_ParseWithLength(line, (size_t)line_len);
        const char *snapshot = string_member(request, "snapshot");
        const char *flag = string_member(request, "flag");
        if (!snapshot || !flag) {
            fprintf(stderr, "%s:%ld: not a request (snapshot and flag are required)\n", in_path, line_number);
            cJSON_Delete(request);
            errors++;
            fputs("{\"error\":\"invalid_request\"}\n", out);
            continue;
        }

        struct cached_engine *entry = NULL;
        for (size_t i = 0; i < cached; i++)
            if (strcmp(cache[i].path, snapshot) == 0) entry = &cache[i];
        if (!entry) {
            struct cached_engine *bigger = realloc(cache, (cached + 1) * sizeof *cache);
            if (!bigger) {
                fprintf(stderr, "out of memory\n");
                exit(2);
            }
            cache = bigger;
            entry = &cache[cached++];
            entry->path = xstrdup(snapshot);
            entry->engine = pennon_engine_new();
            char *full = join_path(root, snapshot);
            size_t text_len = 0;
            char *text = read_file(full, &text_len);
            free(full);
            entry->status = text ? pennon_engine_load(entry->engine, text, text_len) : PENNON_INVALID_ARGUMENT;
            if (entry->status != PENNON_OK)
                fprintf(stderr, "%s: %s\n", snapshot, text ? pennon_last_error_message() : "cannot read the file");
            free(text);
        }

        const char *type = string_member(request, "type");
        const cJSON *now_item = cJSON_GetObjectItemCaseSensitive(request, "now");
        int64_t now = cJSON_IsNumber(now_item) ? (int64_t)now_item->valuedouble : pennon_now_ms();
        const char *context = NULL, *default_json = NULL;
        size_t context_len = 0, default_len = 0;
        find_member(line, (size_t)line_len, "context", &context, &context_len);
        find_member(line, (size_t)line_len, "default", &default_json, &default_len);

        PennonStatus status = entry->status;
        PennonBuffer result = {NULL, 0};
        if (status == PENNON_OK)
            status = pennon_engine_evaluate(entry->engine, flag, strlen(flag), context, context_len, type,
                                            default_json, default_len, now, &result);
        if (status == PENNON_OK) {
            fwrite(result.data, 1, result.len, out);
            fputc('\n', out);
        } else if (entry->status != PENNON_OK) {
            fprintf(out, "{\"error\":\"%s\"}\n", pennon_status_code(status));
        } else {
            /* A refused request: the error object every binding gives for it. */
            char *thrown = thrown_json(status);
            if (!thrown) {
                fprintf(stderr, "out of memory\n");
                return 2;
            }
            fprintf(out, "%s\n", thrown);
            free(thrown);
        }
        pennon_buffer_free(&result);
        cJSON_Delete(request);
    }
    free(line);
    for (size_t i = 0; i < cached; i++) {
        free(cache[i].path);
        pennon_engine_free(cache[i].engine);
    }
    free(cache);
    fclose(in);
    if (fclose(out) != 0) {
        fprintf(stderr, "cannot write %s\n", out_path);
        return 2;
    }
    fprintf(stderr, "differential: %ld requests, %zu snapshots, %ld malformed\n", line_number, cached, errors);
    return errors == 0 ? 0 : 1;
}

/* ---- the argument contract (tests/conformance/arguments.json) ------------------------ */

/*
 * Every case of the language-neutral argument contract that C's typed signatures can
 * express: string flag keys and type names (or NULL), JSON text for contexts, defaults and
 * snapshots, integral `now` (or pennon_now_ms()), typed getter defaults of the getter's
 * own C type. The others (a flag key that is a number, a `now` that is a string or a
 * fraction…) cannot be written in C at all; they are counted, not skipped silently.
 */
static int inexpressible;

/* A JSON member as text for the library (caller frees), or NULL when absent. */
static char *member_text(const cJSON *args, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(args, key);
    return item ? cJSON_PrintUnformatted(item) : NULL;
}

/* Whether the library's last failure is the expected error object {code, path, message}. */
static void check_thrown(const char *label, PennonStatus status, const cJSON *want) {
    const char *code = string_member(want, "code"), *message = string_member(want, "message");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(want, "path");
    const char *actual_path = pennon_last_error_path();
    bool same_path = cJSON_IsString(path) ? strcmp(actual_path, path->valuestring) == 0 : actual_path[0] == '\0';
    if (status != PENNON_OK && code && message && strcmp(pennon_status_code(status), code) == 0 &&
        strcmp(pennon_last_error_message(), message) == 0 && same_path) {
        passed++;
    } else {
        failed++;
        report_failure(label, "expected %s (%s), got %s: %s", code ? code : "?", message ? message : "?",
                       pennon_status_code(status), status == PENNON_OK ? "no error" : pennon_last_error_message());
    }
}

/* Checks the fields `want` names in the JSON text `got`. */
static bool fields_match(const char *label, const char *got, size_t len, const cJSON *want) {
    cJSON *actual = cJSON_ParseWithLength(got, len);
    bool ok = actual != NULL;
    for (const cJSON *field = want ? want->child : NULL; ok && field; field = field->next) {
        if (!same_json(field, cJSON_GetObjectItemCaseSensitive(actual, field->string))) {
            report_failure(label, "`%s` differs in %.*s", field->string, (int)len, got);
            ok = false;
        }
    }
    cJSON_Delete(actual);
    return ok;
}

/* Runs one case; returns false when C cannot express it. */
static bool run_argument_case(const cJSON *c, const char *snapshot) {
    const char *label = string_member(c, "name"), *call = string_member(c, "call");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "args");
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(expect, "error");
    const cJSON *flag = cJSON_GetObjectItemCaseSensitive(args, "flag");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(args, "type");
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(args, "now");
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(args, "default");
    if (flag && !cJSON_IsString(flag)) return false;
    if (type && !cJSON_IsString(type) && !cJSON_IsNull(type)) return false;
    if (now && !cJSON_IsNull(now) && !(cJSON_IsNumber(now) && now->valuedouble == (double)(int64_t)now->valuedouble))
        return false;
    int64_t at = cJSON_IsNumber(now) ? (int64_t)now->valuedouble : pennon_now_ms();

    PennonEngine *engine = pennon_engine_new();
    const cJSON *engine_kind = cJSON_GetObjectItemCaseSensitive(c, "engine");
    bool empty = cJSON_IsString(engine_kind) && strcmp(engine_kind->valuestring, "empty") == 0;
    if (!empty && pennon_engine_load(engine, snapshot, strlen(snapshot)) != PENNON_OK) {
        report_failure(label, "the contract's snapshot does not load: %s", pennon_last_error_message());
        failed++;
        pennon_engine_free(engine);
        return true;
    }
    char *context = member_text(args, "context"), *default_json = member_text(args, "default");
    size_t context_len = context ? strlen(context) : 0, default_len = default_json ? strlen(default_json) : 0;
    const char *key = flag ? flag->valuestring : "";
    const char *type_name = cJSON_IsString(type) ? type->valuestring : NULL;
    PennonBuffer out = {NULL, 0};
    PennonStatus status = PENNON_OK;
    bool expressible = true, ok = true, checked = false;

    if (strcmp(call, "evaluate") == 0 || strcmp(call, "evaluateAll") == 0) {
        status = strcmp(call, "evaluate") == 0
                     ? pennon_engine_evaluate(engine, key, strlen(key), context, context_len, type_name, default_json,
                                              default_len, at, &out)
                     : pennon_engine_evaluate_all_json(engine, context, context_len, at, &out);
        if (!error && status == PENNON_OK) {
            const cJSON *results = cJSON_GetObjectItemCaseSensitive(expect, "results");
            if (results) {
                cJSON *all = cJSON_ParseWithLength(out.data, out.len);
                ok = all && cJSON_GetArraySize(all) == cJSON_GetArraySize(results);
                for (const cJSON *r = results->child; ok && r; r = r->next) {
                    char *one = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(all, r->string));
                    ok = one && fields_match(label, one, strlen(one), r);
                    cJSON_free(one);
                }
                cJSON_Delete(all);
            } else {
                ok = fields_match(label, out.data, out.len, cJSON_GetObjectItemCaseSensitive(expect, "result"));
            }
        }
    } else if (strncmp(call, "get", 3) == 0) {
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(expect, "value");
        if (strcmp(call, "getBoolean") == 0 && cJSON_IsBool(def)) {
            bool got = false;
            status = pennon_engine_get_boolean(engine, key, strlen(key), context, context_len, cJSON_IsTrue(def), at, &got);
            ok = error || (status == PENNON_OK && cJSON_IsBool(value) && got == cJSON_IsTrue(value));
        } else if (strcmp(call, "getNumber") == 0 && cJSON_IsNumber(def)) {
            double got = 0;
            status = pennon_engine_get_number(engine, key, strlen(key), context, context_len, def->valuedouble, at, &got);
            ok = error || (status == PENNON_OK && cJSON_IsNumber(value) && got == value->valuedouble);
        } else if (strcmp(call, "getString") == 0 && cJSON_IsString(def)) {
            status = pennon_engine_get_string(engine, key, strlen(key), context, context_len, def->valuestring,
                                              strlen(def->valuestring), at, &out);
            ok = error || (status == PENNON_OK && cJSON_IsString(value) && out.len == strlen(value->valuestring) &&
                           memcmp(out.data, value->valuestring, out.len) == 0);
        } else if (strcmp(call, "getObject") == 0) {
            status = pennon_engine_get_object(engine, key, strlen(key), context, context_len, default_json, default_len,
                                              at, &out);
            cJSON *got = status == PENNON_OK ? cJSON_ParseWithLength(out.data, out.len) : NULL;
            ok = error || (got && same_json(got, value));
            cJSON_Delete(got);
        } else {
            expressible = false; /* a default of another C type */
        }
        if (!ok) report_failure(label, "unexpected value (status %s)", pennon_status_code(status));
    } else if (strcmp(call, "load") == 0 || strcmp(call, "new") == 0) {
        const cJSON *document = cJSON_GetObjectItemCaseSensitive(args, "snapshot");
        PennonEngine *target = engine;
        if (strcmp(call, "new") == 0) target = pennon_engine_new();
        if (cJSON_IsString(document) || cJSON_IsObject(document)) {
            char *text = cJSON_IsString(document) ? xstrdup(document->valuestring) : cJSON_PrintUnformatted(document);
            status = pennon_engine_load(target, text, strlen(text));
            free(text);
            if (error) { /* before another call clears the thread's last error */
                check_thrown(label, status, error);
                checked = true;
            }
            const cJSON *warnings = cJSON_GetObjectItemCaseSensitive(expect, "warnings");
            if (warnings && status == PENNON_OK) {
                PennonBuffer listed = {NULL, 0};
                ok = pennon_engine_warnings_json(target, &listed) == PENNON_OK;
                cJSON *got = ok ? cJSON_ParseWithLength(listed.data, listed.len) : NULL;
                ok = got && cJSON_GetArraySize(got) == cJSON_GetArraySize(warnings);
                const cJSON *w = warnings->child;
                for (const cJSON *g = got ? got->child : NULL; ok && g && w; g = g->next, w = w->next)
                    ok = same_json(cJSON_GetObjectItemCaseSensitive(g, "code"), cJSON_GetObjectItemCaseSensitive(w, "code")) &&
                         same_json(cJSON_GetObjectItemCaseSensitive(g, "path"), cJSON_GetObjectItemCaseSensitive(w, "path"));
                cJSON_Delete(got);
                pennon_buffer_free(&listed);
                if (!ok) report_failure(label, "warnings differ");
            }
        } else if (document) {
            expressible = false; /* a snapshot that is neither text nor an object */
        }
        const cJSON *revision = cJSON_GetObjectItemCaseSensitive(expect, "revision");
        if (expressible && revision) {
            uint64_t got = 0;
            PennonStatus had = pennon_engine_revision(target, &got);
            bool same = cJSON_IsNull(revision) ? had == PENNON_NOT_LOADED
                                               : had == PENNON_OK && (double)got == revision->valuedouble;
            if (!same) {
                report_failure(label, "revision differs");
                ok = false;
                if (checked) failed++;
            }
        }
        if (target != engine) pennon_engine_free(target);
    } else {
        expressible = false;
    }

    if (expressible && !checked) {
        if (error) {
            check_thrown(label, status, error);
        } else if (ok && status == PENNON_OK) {
            passed++;
        } else {
            failed++;
            if (ok) report_failure(label, "status %s: %s", pennon_status_code(status), pennon_last_error_message());
        }
    }
    pennon_buffer_free(&out);
    free(context);
    free(default_json);
    pennon_engine_free(engine);
    return expressible;
}

static int run_arguments(const char *path) {
    size_t len = 0;
    char *text = read_file(path, &len);
    cJSON *data = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!data) {
        fprintf(stderr, "cannot read %s\n", path);
        return 2;
    }
    char *snapshot = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(data, "snapshot"));
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(data, "cases");
    for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next)
        if (!run_argument_case(c, snapshot)) inexpressible++;
    cJSON_free(snapshot);
    cJSON_Delete(data);
    printf("C argument contract (%s): %d cases not expressible with C's typed arguments\n", path, inexpressible);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed >= 20 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--arguments") == 0) return run_arguments(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "--differential") == 0) {
        if (argc != 4 && !(argc == 6 && strcmp(argv[4], "--root") == 0)) {
            fprintf(stderr, "usage: %s --differential IN.jsonl OUT.jsonl [--root DIR]\n", argv[0]);
            return 2;
        }
        return run_differential(argv[2], argv[3], argc == 6 ? argv[5] : NULL);
    }
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr,
                "usage: %s [SUITE_DIR]\n       %s --differential IN.jsonl OUT.jsonl [--root DIR]\n"
                "       %s --arguments tests/conformance/arguments.json\n",
                argv[0], argv[0], argv[0]);
        return 2;
    }
    return run_suite(argc == 2 ? argv[1] : "tests/conformance");
}
