/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TCG PC Client event log (PC Client Platform Firmware Profile, crypto-agile format): one
 * bounded pass that checks every length against the bytes left and replays the SHA-256 bank. */

#include "tpm/eventlog.h"
#include "common/openssl-util.h"
#include "util.h"

#include <inttypes.h>
#include <pthread.h>

#define EVENTLOG_MAX_EVENTS 65536
#define TPM_ALG_SHA1        0x0004u
#define TPM_ALG_SHA256      0x000bu
#define SPEC_ID_SIGNATURE   "Spec ID Event03" /* 16 bytes with its NUL */
#define STARTUP_LOCALITY    "StartupLocality" /* 16 bytes with its NUL, then the locality */
#define SHA1_HEADER_SIZE    32u               /* TCG_PCR_EVENT up to the event data */

/* The TCG algorithm registry's hashes with their digest sizes: a Spec ID event that names
 * anything else, or a known one with another size, cannot be walked safely. */
static const struct {
        uint16_t id;
        uint16_t size;
        const char *name;
} known_algs[] = {
    {0x0004, 20, "sha1"},     {0x000b, 32, "sha256"},   {0x000c, 48, "sha384"},
    {0x000d, 64, "sha512"},   {0x0012, 32, "sm3_256"},  {0x0027, 32, "sha3_256"},
    {0x0028, 48, "sha3_384"}, {0x0029, 64, "sha3_512"},
};

/* PC Client PFP "Event Types", plus the EFI types and the SPDM types of PFP 1.06. */
static const struct {
        uint32_t type;
        const char *name;
} event_types[] = {
    {0x00000000, "EV_PREBOOT_CERT"},
    {0x00000001, "EV_POST_CODE"},
    {0x00000002, "EV_UNUSED"},
    {0x00000003, "EV_NO_ACTION"},
    {0x00000004, "EV_SEPARATOR"},
    {0x00000005, "EV_ACTION"},
    {0x00000006, "EV_EVENT_TAG"},
    {0x00000007, "EV_S_CRTM_CONTENTS"},
    {0x00000008, "EV_S_CRTM_VERSION"},
    {0x00000009, "EV_CPU_MICROCODE"},
    {0x0000000a, "EV_PLATFORM_CONFIG_FLAGS"},
    {0x0000000b, "EV_TABLE_OF_DEVICES"},
    {0x0000000c, "EV_COMPACT_HASH"},
    {0x0000000d, "EV_IPL"},
    {0x0000000e, "EV_IPL_PARTITION_DATA"},
    {0x0000000f, "EV_NONHOST_CODE"},
    {0x00000010, "EV_NONHOST_CONFIG"},
    {0x00000011, "EV_NONHOST_INFO"},
    {0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS"},
    {0x00000013, "EV_POST_CODE2"},
    {0x80000000, "EV_EFI_EVENT_BASE"},
    {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
    {0x80000002, "EV_EFI_VARIABLE_BOOT"},
    {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"},
    {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"},
    {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
    {0x80000006, "EV_EFI_GPT_EVENT"},
    {0x80000007, "EV_EFI_ACTION"},
    {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
    {0x80000009, "EV_EFI_HANDOFF_TABLES"},
    {0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
    {0x8000000b, "EV_EFI_HANDOFF_TABLES2"},
    {0x8000000c, "EV_EFI_VARIABLE_BOOT2"},
    {0x8000000d, "EV_EFI_GPT_EVENT2"},
    {0x80000010, "EV_EFI_HCRTM_EVENT"},
    {0x800000e0, "EV_EFI_VARIABLE_AUTHORITY"},
    {0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB"},
    {0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
    {0x800000e3, "EV_EFI_SPDM_DEVICE_POLICY"},
    {0x800000e4, "EV_EFI_SPDM_DEVICE_AUTHORITY"},
};

/* Names the specification gives a second time for the same value; accepted, never printed. */
static const struct {
        uint32_t type;
        const char *name;
} event_type_aliases[] = {
    {0x800000e1, "EV_EFI_SPDM_DEVICE_BLOB"},
    {0x800000e2, "EV_EFI_SPDM_DEVICE_CONFIG"},
};

const char *eventlog_type_name(uint32_t type, char buf[VERDICT_EVENT_TYPE_MAX])
{
        for (size_t i = 0; i < ELEMENTSOF(event_types); i++)
                if (event_types[i].type == type)
                        return event_types[i].name;
        snprintf(buf, VERDICT_EVENT_TYPE_MAX, "0x%08x", type);
        return buf;
}

int eventlog_type_from_name(const char *name, uint32_t *ret)
{
        const char *hex;

        if (!name)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(event_types); i++)
                if (streq(event_types[i].name, name)) {
                        *ret = event_types[i].type;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(event_type_aliases); i++)
                if (streq(event_type_aliases[i].name, name)) {
                        *ret = event_type_aliases[i].type;
                        return 0;
                }

        /* "0x" and 1 to 8 hex digits, nothing else: strtoul() would take signs and spaces. */
        hex = startswith(name, "0x");
        if (!hex || !*hex || strlen(hex) > 8)
                return -EINVAL;
        uint32_t v = 0;
        for (const char *p = hex; *p; p++) {
                int d;
                if (*p >= '0' && *p <= '9')
                        d = *p - '0';
                else if (*p >= 'a' && *p <= 'f')
                        d = *p - 'a' + 10;
                else if (*p >= 'A' && *p <= 'F')
                        d = *p - 'A' + 10;
                else
                        return -EINVAL;
                v = v << 4 | (uint32_t) d;
        }
        *ret = v;
        return 0;
}

static const char *alg_name(uint16_t id)
{
        for (size_t i = 0; i < ELEMENTSOF(known_algs); i++)
                if (known_algs[i].id == id)
                        return known_algs[i].name;
        return "?";
}

/* A cursor that never reads past the end: every take reports whether the bytes were there. */
struct reader {
        const uint8_t *buf;
        size_t size;
        size_t off;
};

static size_t reader_left(const struct reader *r)
{
        return r->size - r->off;
}

static bool take(struct reader *r, size_t n, const uint8_t **ret)
{
        if (n > reader_left(r))
                return false;
        *ret = r->buf + r->off;
        r->off += n;
        return true;
}

static bool take_u8(struct reader *r, uint8_t *ret)
{
        const uint8_t *p;
        if (!take(r, 1, &p))
                return false;
        *ret = p[0];
        return true;
}

static bool take_le16(struct reader *r, uint16_t *ret)
{
        const uint8_t *p;
        if (!take(r, 2, &p))
                return false;
        *ret = (uint16_t) (p[0] | p[1] << 8);
        return true;
}

static bool take_le32(struct reader *r, uint32_t *ret)
{
        const uint8_t *p;
        if (!take(r, 4, &p))
                return false;
        *ret =
            (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
        return true;
}

/* The message says where: the event's index and the offset at which that event starts, so
 * `dd skip=OFFSET` finds it. */
static _printf_(5, 6) int refuse(struct verdict *v, enum reason reason, long index, size_t offset,
                                 const char *fmt, ...)
{
        char what[VERDICT_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (index >= 0)
                verdict_set(v, reason, "event log: event %ld at offset %zu: %s", index, offset,
                            what);
        else
                verdict_set(v, reason, "event log: %s", what);
        v->event = index;
        return -EBADMSG;
}

/* The digest sizes the Spec ID event declares, in its order. */
struct spec {
        uint16_t algs[ELEMENTSOF(known_algs)];
        uint16_t sizes[ELEMENTSOF(known_algs)];
        size_t n_algs;
        size_t event_min; /* the smallest TCG_PCR_EVENT2 this log can hold */
};

/* A log that does not start with a Spec ID Event03 is either the SHA-1 format of TPM 1.2
 * firmware (TCG_PCR_EVENT records to the end) or not an event log at all; the first is
 * refused for its missing bank, the second as malformed, where the SHA-1 walk broke. */
static int refuse_legacy(const uint8_t *buf, size_t size, struct verdict *v)
{
        struct reader r = {buf, size, 0};

        for (long index = 0; reader_left(&r) > 0; index++) {
                size_t start = r.off;
                uint32_t pcr, type, data_size;
                const uint8_t *p;

                if (index >= EVENTLOG_MAX_EVENTS)
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                      "more than %d events", EVENTLOG_MAX_EVENTS);
                if (!take_le32(&r, &pcr) || !take_le32(&r, &type) || !take(&r, 20, &p) ||
                    !take_le32(&r, &data_size))
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                      "truncated event header: %zu bytes left, a SHA-1 event "
                                      "header needs %u (no Spec ID Event03: read as a SHA-1 log)",
                                      size - start, SHA1_HEADER_SIZE);
                /* Windows and some firmware write informational EV_NO_ACTION events with
                 * PCR 0xFFFFFFFF ("no PCR"; TCG_PCR_EVENT allows it, go-attestation's
                 * option_rom_eventlog ends with one): they extend nothing, so they do not make
                 * a SHA-1 log malformed. */
                if (pcr >= EVENTLOG_PCRS && !(pcr == UINT32_MAX && type == EV_NO_ACTION))
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                      "PCR %" PRIu32 " out of range 0-%d (no Spec ID Event03: read "
                                      "as a SHA-1 log)",
                                      pcr, EVENTLOG_PCRS - 1);
                if (!take(&r, data_size, &p))
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                      "event data of %" PRIu32 " bytes, %zu left (no Spec ID "
                                      "Event03: read as a SHA-1 log)",
                                      data_size, reader_left(&r));
        }
        return refuse(v, REASON_EVENTLOG_NO_SHA256, -1, 0,
                      "a legacy SHA-1 event log (no Spec ID Event03 event); the SHA-256 bank is "
                      "required: boot with a TPM 2.0 and firmware that logs in the crypto-agile "
                      "format");
}

/* Event 0: a TCG_PCR_EVENT (SHA-1 header) of type EV_NO_ACTION whose data is the
 * TCG_EfiSpecIdEvent that declares every bank and its digest size. */
static int parse_spec_id(struct reader *r, struct spec *ret, struct verdict *v)
{
        uint32_t pcr, type, data_size, platform_class, n_algs;
        uint8_t minor, major, errata, uintn_size, vendor_size;
        const uint8_t *digest, *data, *signature, *vendor, *first;
        struct spec spec = {};

        if (r->size == 0)
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0, "empty event log");
        if (!take_le32(r, &pcr) || !take_le32(r, &type) || !take(r, 20, &digest) ||
            !take_le32(r, &data_size))
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                              "truncated first event header: %zu bytes, need %u", r->size,
                              SHA1_HEADER_SIZE);
        if (type == EV_NO_ACTION && data_size > reader_left(r))
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                              "Spec ID event data of %" PRIu32 " bytes, %zu left", data_size,
                              reader_left(r));
        first = r->buf + r->off;
        if (type != EV_NO_ACTION || data_size < 16 || memcmp(first, SPEC_ID_SIGNATURE, 16) != 0) {
                /* Only Event03 carries the algorithm table; Event00 and Event02 are the
                 * SHA-1 logs of TPM 1.2 firmware, and so is a log without a Spec ID event. */
                if (type == EV_NO_ACTION && data_size >= 16 &&
                    memcmp(first, "Spec ID Event", 13) == 0)
                        return refuse(v, REASON_EVENTLOG_NO_SHA256, -1, 0,
                                      "a legacy SHA-1 event log (its first event is a Spec ID "
                                      "event other than Spec ID Event03); the SHA-256 bank is "
                                      "required");
                return refuse_legacy(r->buf, r->size, v);
        }
        if (!take(r, data_size, &data))
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0, "Spec ID event truncated");
        if (pcr != 0)
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                              "Spec ID event in PCR %" PRIu32 ", not 0", pcr);

        /* From here on the reader is the event's data: its size bounds every field. */
        struct reader d = {data, data_size, 0};
        if (!take(&d, 16, &signature) || !take_le32(&d, &platform_class) || !take_u8(&d, &minor) ||
            !take_u8(&d, &major) || !take_u8(&d, &errata) || !take_u8(&d, &uintn_size) ||
            !take_le32(&d, &n_algs))
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                              "Spec ID event of %" PRIu32 " bytes is too short", data_size);
        if (uintn_size != 1 && uintn_size != 2)
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                              "Spec ID event: uintnSize %u, must be 1 or 2", uintn_size);
        if (n_algs == 0 || n_algs > ELEMENTSOF(known_algs))
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                              "Spec ID event declares %" PRIu32 " algorithms, must be 1-%zu",
                              n_algs, ELEMENTSOF(known_algs));
        spec.event_min = 4 + 4 + 4 + 4;
        for (uint32_t i = 0; i < n_algs; i++) {
                uint16_t id, size;
                size_t k;

                if (!take_le16(&d, &id) || !take_le16(&d, &size))
                        return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                                      "Spec ID event declares %" PRIu32
                                      " algorithms but holds %" PRIu32,
                                      n_algs, i);
                for (k = 0; k < ELEMENTSOF(known_algs); k++)
                        if (known_algs[k].id == id)
                                break;
                if (k == ELEMENTSOF(known_algs))
                        return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                                      "Spec ID event: unknown algorithm 0x%04x", id);
                if (known_algs[k].size != size)
                        return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                                      "Spec ID event: %s with digest size %u, must be %u",
                                      known_algs[k].name, size, known_algs[k].size);
                for (size_t j = 0; j < spec.n_algs; j++)
                        if (spec.algs[j] == id)
                                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                                              "Spec ID event declares %s twice",
                                              known_algs[k].name);
                spec.algs[spec.n_algs] = id;
                spec.sizes[spec.n_algs] = size;
                spec.n_algs++;
                spec.event_min += 2 + size;
        }
        if (!take_u8(&d, &vendor_size) || !take(&d, vendor_size, &vendor))
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                              "Spec ID event: vendor info runs past the event's %" PRIu32 " bytes",
                              data_size);
        if (reader_left(&d) != 0)
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0,
                              "Spec ID event: %zu bytes after the vendor info", reader_left(&d));

        bool sha256 = false;
        for (size_t i = 0; i < spec.n_algs; i++)
                sha256 = sha256 || spec.algs[i] == TPM_ALG_SHA256;
        if (!sha256) {
                char banks[64] = "";
                for (size_t i = 0; i < spec.n_algs; i++) {
                        size_t l = strlen(banks);
                        snprintf(banks + l, sizeof(banks) - l, "%s%s", i ? ", " : "",
                                 alg_name(spec.algs[i]));
                }
                return refuse(v, REASON_EVENTLOG_NO_SHA256, -1, 0,
                              "no SHA-256 bank (the Spec ID event declares %s)", banks);
        }

        *ret = spec;
        return 0;
}

/* Fetched once per process: an implicit fetch on every extend costs more than the hash. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* A TCG_PCR_EVENT2: pcrIndex, eventType, TPML_DIGEST_VALUES with exactly the Spec ID's banks
 * (each once, any order), eventSize, event. */
static int parse_event2(struct reader *r, const struct spec *spec, long index,
                        struct eventlog_event *ret, const uint8_t **ret_sha1, struct verdict *v)
{
        size_t start = r->off;
        uint32_t pcr, type, count, data_size;
        const uint8_t *sha256 = NULL, *sha1 = NULL, *data;
        unsigned seen = 0;

        if (!take_le32(r, &pcr) || !take_le32(r, &type) || !take_le32(r, &count))
                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                              "truncated event header: %zu bytes left", r->size - start);
        if (pcr >= EVENTLOG_PCRS)
                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                              "PCR %" PRIu32 " out of range 0-%d", pcr, EVENTLOG_PCRS - 1);
        if (count != spec->n_algs)
                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                              "%" PRIu32 " digests where the Spec ID event declares %zu", count,
                              spec->n_algs);
        for (uint32_t i = 0; i < count; i++) {
                const uint8_t *digest;
                uint16_t id;
                size_t k;

                if (!take_le16(r, &id))
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                      "truncated in digest %" PRIu32, i);
                for (k = 0; k < spec->n_algs; k++)
                        if (spec->algs[k] == id)
                                break;
                if (k == spec->n_algs)
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                      "digest of algorithm 0x%04x, which the Spec ID event does "
                                      "not declare",
                                      id);
                if (seen & 1u << k)
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start, "two %s digests",
                                      alg_name(id));
                seen |= 1u << k;
                if (!take(r, spec->sizes[k], &digest))
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                      "truncated in the %s digest", alg_name(id));
                if (id == TPM_ALG_SHA256)
                        sha256 = digest;
                else if (id == TPM_ALG_SHA1)
                        sha1 = digest;
        }
        if (!take_le32(r, &data_size))
                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                              "truncated before the event size");
        if (!take(r, data_size, &data))
                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                              "event data of %" PRIu32 " bytes, %zu left", data_size,
                              reader_left(r));

        /* parse_spec_id() refused a table without SHA-256, and every bank is present. */
        *ret = (struct eventlog_event){
            .index = index,
            .pcr = pcr,
            .type = type,
            .data = data,
            .data_size = data_size,
        };
        memcpy(ret->sha256, sha256, 32);
        *ret_sha1 = sha1;
        return 0;
}

/* Fetched once per process: an implicit fetch on every extend costs more than the hash. */
static EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void sha1_fetch(void)
{
        sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

/* PCR_new = H(PCR_old || digest), as TPM2_PCR_Extend does. @return 0 or -ENOMEM */
static int extend(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t *pcr, const uint8_t *digest,
                  size_t size)
{
        uint8_t block[64];
        unsigned len;

        memcpy(block, pcr, size);
        memcpy(block + size, digest, size);
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, block, 2 * size) != 1 ||
            EVP_DigestFinal_ex(ctx, pcr, &len) != 1 || len != size)
                return -ENOMEM;
        return 0;
}

int eventlog_parse(const uint8_t *buf, size_t size, struct eventlog *ret, struct verdict *v)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_free_ struct eventlog_event *events = NULL;
        struct reader r = {buf, size, 0};
        struct eventlog log = {};
        bool locality_seen = false;
        struct verdict ignored;
        struct spec spec = {};
        size_t n_max;
        int k;

        if (!v)
                v = &ignored;
        if (!buf && size > 0)
                return refuse(v, REASON_EVENTLOG_MALFORMED, 0, 0, "no buffer");
        if (!buf)
                r.buf = (const uint8_t *) "";

        k = parse_spec_id(&r, &spec, v);
        if (k < 0)
                return k;

        /* One allocation, sized by what the bytes left can hold at most. */
        n_max = reader_left(&r) / spec.event_min;
        if (n_max > EVENTLOG_MAX_EVENTS)
                n_max = EVENTLOG_MAX_EVENTS;
        if (n_max > 0) {
                events = malloc(n_max * sizeof(*events));
                if (!events)
                        goto oom;
        }

        pthread_once(&sha256_once, sha256_fetch);
        ctx = EVP_MD_CTX_new();
        if (!sha256_md || !ctx)
                goto oom;
        for (size_t i = 0; i < spec.n_algs; i++)
                log.has_sha1 = log.has_sha1 || spec.algs[i] == TPM_ALG_SHA1;
        /* Informational (nothing decides on it): an OpenSSL without SHA-1 only loses it. */
        if (log.has_sha1) {
                pthread_once(&sha1_once, sha1_fetch);
                log.has_sha1 = sha1_md != NULL;
        }

        /* PC Client PFP: PCRs 17-22 (DRTM) start at all ones, every other PCR at zero, PCR 0
         * with the startup locality in its last byte, or at 4 after an H-CRTM sequence. */
        for (unsigned i = 17; i <= 22; i++) {
                memset(log.pcr_sha256[i], 0xff, 32);
                memset(log.pcr_sha1[i], 0xff, 20);
        }

        for (long index = 1; reader_left(&r) > 0; index++) {
                size_t start = r.off;
                struct eventlog_event *e, event;
                const uint8_t *sha1 = NULL; /* set whenever the log has a SHA-1 bank */

                k = parse_event2(&r, &spec, index, &event, &sha1, v);
                if (k < 0)
                        return k;
                /* n_max fits every event the bytes can hold, so only the cap can bind here. */
                if (log.n_events >= n_max)
                        return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                      "more than %d events", EVENTLOG_MAX_EVENTS);
                e = &events[log.n_events++];
                *e = event;

                if (e->type == EV_NO_ACTION) {
                        if (e->data_size != 17 || memcmp(e->data, STARTUP_LOCALITY, 16) != 0)
                                continue; /* never extended, so it cannot change a PCR */
                        if (e->pcr != 0)
                                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                              "StartupLocality event in PCR %" PRIu32 ", not 0",
                                              e->pcr);
                        if (locality_seen)
                                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                              "a second StartupLocality event");
                        /* After an H-CRTM event too: that extended PCR 0. */
                        if (log.pcr_extended_mask & 1u)
                                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                              "StartupLocality event after PCR 0 was extended");
                        if (e->data[16] > 4)
                                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                              "startup locality %u, must be 0-4", e->data[16]);
                        locality_seen = true;
                        log.startup_locality = e->data[16];
                        log.pcr_sha256[0][31] = e->data[16];
                        log.pcr_sha1[0][19] = e->data[16];
                        continue;
                }

                /* H-CRTM (TPM 2.0 Library Part 1, "H-CRTM before TPM2_Startup"; PC Client PFP
                 * "EV_EFI_HCRTM_EVENT"): _TPM_Hash_Start resets PCR 0 to 4 (locality 4 in the
                 * last byte) and _TPM_Hash_End extends the H-CRTM's digest, which the firmware
                 * logs as PCR 0's first event. TPM2_Startup then leaves PCR 0 alone, so a
                 * StartupLocality event before it changes nothing. Anywhere else in PCR 0 no
                 * platform can have produced it. */
                if (e->type == EV_EFI_HCRTM_EVENT && e->pcr == 0) {
                        if (log.pcr_extended_mask & 1u)
                                return refuse(v, REASON_EVENTLOG_MALFORMED, index, start,
                                              "H-CRTM event (EV_EFI_HCRTM_EVENT) after PCR 0 was "
                                              "extended: it can only be PCR 0's first event");
                        log.hcrtm = true;
                        memset(log.pcr_sha256[0], 0, 32);
                        memset(log.pcr_sha1[0], 0, 20);
                        log.pcr_sha256[0][31] = 4;
                        log.pcr_sha1[0][19] = 4;
                }

                if (extend(ctx, sha256_md, log.pcr_sha256[e->pcr], e->sha256, 32) < 0)
                        goto oom;
                if (log.has_sha1 && extend(ctx, sha1_md, log.pcr_sha1[e->pcr], sha1, 20) < 0)
                        goto oom;
                log.pcr_extended_mask |= 1u << e->pcr;
        }

        log.n_algs = spec.n_algs;
        for (size_t i = 0; i < spec.n_algs; i++)
                log.algs[i] = spec.algs[i];
        log.events = TAKE_PTR(events);
        *ret = log;
        return 0;

oom:
        verdict_set(v, REASON_INTERNAL, "event log: out of memory or no SHA-256 in OpenSSL");
        return -ENOMEM;
}

void eventlog_done(struct eventlog *log)
{
        if (!log)
                return;
        free(log->events);
        *log = (struct eventlog){};
}
