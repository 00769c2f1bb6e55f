/*
 * Pennon from C in one page: load a snapshot, evaluate flags, handle errors, free
 * everything. Build (after bindings/c/install.sh PREFIX):
 *
 *   gcc quickstart.c $(pkg-config --cflags --libs pennon) -o quickstart
 *   ./quickstart examples/flags.json
 */
#include <pennon.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file into a malloc'd buffer. */
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

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "examples/flags.json";
    size_t len = 0;
    char *snapshot = read_file(path, &len);
    if (!snapshot) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }

    /* 1. An engine holds one compiled snapshot. Load copies the text: free yours. */
    PennonEngine *engine = pennon_engine_new();
    PennonStatus status = pennon_engine_load(engine, snapshot, len);
    free(snapshot);
    if (status != PENNON_OK) {
        fprintf(stderr, "load failed (%s): %s\n", pennon_status_code(status), pennon_last_error_message());
        pennon_engine_free(engine);
        return 1;
    }
    uint64_t revision = 0;
    if (pennon_engine_revision(engine, &revision) == PENNON_OK)
        printf("pennon %s: loaded revision %llu\n", pennon_version(), (unsigned long long)revision);

    /* 2. A bad update is rejected and the engine keeps the last good snapshot. */
    const char bad[] = "{\"schemaVersion\": 2}";
    status = pennon_engine_load(engine, bad, strlen(bad));
    printf("bad update rejected: %s (%s)\n", pennon_status_code(status), pennon_last_error_message());
    if (pennon_engine_revision(engine, &revision) == PENNON_OK)
        printf("still serving revision %llu\n", (unsigned long long)revision);

    /* 3. Full details: the canonical result JSON, in a buffer the library owns until you
     *    free it. Real code passes pennon_now_ms(); a fixed time keeps this output stable
     *    (2026-11-22T12:00:00Z, during the checkout canary). */
    const int64_t now = 1795348800000LL;
    const char context[] = "{\"targetingKey\":\"u-globex-1182-07\",\"tenant\":\"globex\","
                           "\"plan\":\"enterprise\",\"appVersion\":\"5.3.1\",\"country\":\"US\"}";
    const char flag[] = "checkout.new-flow";
    PennonBuffer result = {NULL, 0};
    status = pennon_engine_evaluate(engine, flag, strlen(flag), context, strlen(context), "boolean", "false", 5,
                                    now, &result);
    if (status == PENNON_OK) printf("%s -> %s\n", flag, result.data);
    pennon_buffer_free(&result);

    /* 4. Typed getters: the value, or your default on any evaluation problem. */
    bool new_flow = false;
    double retries = 1;
    if (pennon_engine_get_boolean(engine, flag, strlen(flag), context, strlen(context), false, now, &new_flow) ==
            PENNON_OK &&
        pennon_engine_get_number(engine, "max_retry_attempts", 18, context, strlen(context), 1, now, &retries) ==
            PENNON_OK)
        printf("new checkout: %s, retries: %g\n", new_flow ? "yes" : "no", retries);

    pennon_engine_free(engine);
    return 0;
}
