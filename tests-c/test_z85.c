/* zmq_z85_encode / zmq_z85_decode (RFC 32).
 *
 * Pins: the RFC 32 test vector; the full 85-character alphabet in order;
 * round trips of pseudo-random buffers whose length is a multiple of 4;
 * encode writes a NUL-terminated string and returns dest; encoding 0 bytes
 * gives "" but decoding "" fails.  Failures all return NULL with EINVAL:
 * encode of a size not divisible by 4; decode of a string shorter than 5 or
 * whose length is not divisible by 5; any character outside the alphabet
 * (including space, control and non-ASCII bytes); a 5-character group whose
 * value exceeds 0xFFFFFFFF ("%nSc0" is the largest valid group). */
#include "testutil.h"

#include <stdint.h>

static const char alphabet[] = "0123456789"
                               "abcdefghij"
                               "klmnopqrst"
                               "uvwxyzABCD"
                               "EFGHIJKLMN"
                               "OPQRSTUVWX"
                               "YZ.-:+=^!/"
                               "*?&<>()[]{"
                               "}@%$#";

static uint32_t rng_state = 0x12345678u;

static uint32_t next_random (void)
{
    //  xorshift32: deterministic.
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void test_rfc_vector (void)
{
    const uint8_t data[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
    char encoded[11];
    memset (encoded, 'X', sizeof encoded);
    char *rc = zmq_z85_encode (encoded, data, 8);
    CHECK (rc == encoded);
    CHECK_STR_EQ (encoded, "HelloWorld");

    uint8_t decoded[8];
    memset (decoded, 0, sizeof decoded);
    uint8_t *drc = zmq_z85_decode (decoded, "HelloWorld");
    CHECK (drc == decoded);
    CHECK (memcmp (decoded, data, 8) == 0);
}

static void test_alphabet (void)
{
    CHECK_INT_EQ (strlen (alphabet), 85);

    //  A 4-byte big-endian value v < 85 encodes as "0000" + alphabet[v].
    for (uint32_t v = 0; v < 85; v++) {
        const uint8_t data[4] = {0, 0, 0, (uint8_t) v};
        char encoded[6];
        CHECK (zmq_z85_encode (encoded, data, 4) == encoded);
        char expected[6] = {'0', '0', '0', '0', alphabet[v], '\0'};
        CHECK_STR_EQ (encoded, expected);

        uint8_t decoded[4] = {0xff, 0xff, 0xff, 0xff};
        CHECK (zmq_z85_decode (decoded, expected) == decoded);
        CHECK (memcmp (decoded, data, 4) == 0);
    }

    //  Extremes.
    const uint8_t zeros[4] = {0, 0, 0, 0};
    const uint8_t ones[4] = {0xff, 0xff, 0xff, 0xff};
    char encoded[6];
    CHECK (zmq_z85_encode (encoded, zeros, 4) == encoded);
    CHECK_STR_EQ (encoded, "00000");
    CHECK (zmq_z85_encode (encoded, ones, 4) == encoded);
    CHECK_STR_EQ (encoded, "%nSc0");
    uint8_t decoded[4];
    CHECK (zmq_z85_decode (decoded, "%nSc0") == decoded);
    CHECK (memcmp (decoded, ones, 4) == 0);
    CHECK (zmq_z85_decode (decoded, "00000") == decoded);
    CHECK (memcmp (decoded, zeros, 4) == 0);

    //  Big-endian: 0x00000100 = 256 = 3*85 + 1.
    const uint8_t v256[4] = {0, 0, 1, 0};
    CHECK (zmq_z85_encode (encoded, v256, 4) == encoded);
    CHECK_STR_EQ (encoded, "00031");
}

static void test_round_trips (void)
{
    for (int iter = 0; iter < 200; iter++) {
        const size_t size = 4 * (next_random () % 65); //  0 .. 256 bytes
        uint8_t data[256];
        for (size_t i = 0; i < size; i++)
            data[i] = (uint8_t) next_random ();

        char encoded[256 * 5 / 4 + 1];
        memset (encoded, 'X', sizeof encoded);
        CHECK (zmq_z85_encode (encoded, data, size) == encoded);
        CHECK_INT_EQ (strlen (encoded), size * 5 / 4);
        for (size_t i = 0; i < size * 5 / 4; i++)
            CHECK (strchr (alphabet, encoded[i]) != NULL);

        if (size == 0)
            continue; //  "" cannot be decoded (see test_errors)

        uint8_t decoded[256];
        memset (decoded, 0, sizeof decoded);
        CHECK (zmq_z85_decode (decoded, encoded) == decoded);
        CHECK (memcmp (decoded, data, size) == 0);
    }

    //  Random valid strings decode and re-encode to themselves.  Each group
    //  must stay <= 0xFFFFFFFF: a first character of index < 80 guarantees
    //  it (80 * 85^4 - 1 < 2^32).
    for (int iter = 0; iter < 100; iter++) {
        const size_t groups = 1 + next_random () % 20;
        char text[20 * 5 + 1];
        for (size_t i = 0; i < groups * 5; i++) {
            const uint32_t limit = (i % 5 == 0) ? 80 : 85;
            text[i] = alphabet[next_random () % limit];
        }
        text[groups * 5] = '\0';
        uint8_t decoded[20 * 4];
        CHECK (zmq_z85_decode (decoded, text) == decoded);
        char again[20 * 5 + 1];
        CHECK (zmq_z85_encode (again, decoded, groups * 4) == again);
        CHECK_STR_EQ (again, text);
    }
}

static void test_errors (void)
{
    const uint8_t data[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                              9, 10, 11, 12, 13, 14, 15, 16};
    char encoded[32];
    uint8_t decoded[32];

    //  Encode: size must be a multiple of 4.
    const size_t bad_sizes[] = {1, 2, 3, 5, 6, 7, 9, 15};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++)
        CHECK_NULL_ERRNO (zmq_z85_encode (encoded, data, bad_sizes[i]),
                          EINVAL);

    //  Encode of 0 bytes succeeds with "".
    memset (encoded, 'X', sizeof encoded);
    CHECK (zmq_z85_encode (encoded, data, 0) == encoded);
    CHECK_STR_EQ (encoded, "");

    //  Decode: length must be >= 5 and a multiple of 5.
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, ""), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "0"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "1234"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "123456"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "HelloWorl"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "HelloWorld0"), EINVAL);

    //  Decode: every printable ASCII character outside the alphabet, plus
    //  space, control characters, DEL and bytes >= 0x80, at each position.
    const char invalid[] = {'"',  '\'', ',',  ';',  '\\', '_',
                            '`',  '|',  '~',  ' ',  '\t', '\n',
                            0x01, 0x1f, 0x7f, (char) 0x80, (char) 0xff};
    for (size_t i = 0; i < sizeof invalid; i++) {
        for (int pos = 0; pos < 5; pos++) {
            char text[11] = "0000000000";
            text[5 + pos] = invalid[i];
            CHECK_NULL_ERRNO (zmq_z85_decode (decoded, text), EINVAL);
        }
    }

    //  Decode: values above 0xFFFFFFFF ("%nSc0" is the maximum).
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "%nSc1"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "%nSd0"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "%%%%%"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "#####"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "$0000"), EINVAL);
    CHECK_NULL_ERRNO (zmq_z85_decode (decoded, "00000#####"), EINVAL);
    //  Just below the limit is fine.
    CHECK (zmq_z85_decode (decoded, "%nSb~") == NULL); //  '~' is invalid
    CHECK (zmq_z85_decode (decoded, "%nSb#") == decoded);
    CHECK (decoded[0] == 0xff && decoded[1] == 0xff && decoded[2] == 0xff
           && decoded[3] == 0xff - 1);
}

int main (void)
{
    test_init ();
    test_rfc_vector ();
    test_alphabet ();
    test_round_trips ();
    test_errors ();
    TEST_PASS ();
}
