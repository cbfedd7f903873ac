/* zmq_curve_keypair / zmq_curve_public.
 *
 * Pins: both calls work (Debian's libzmq is built with CURVE; ours has real
 * X25519 keys whatever zmq_has ("curve") says, since that answers for the
 * CURVE security mechanism, which arrives later); a keypair is two 40-character Z85 strings that decode to
 * 32 bytes each; keypairs differ between calls; zmq_curve_public derives the
 * same public key from the secret; the derivation is X25519 with the base
 * point (RFC 7748 section 6.1 vectors for Alice and Bob); a secret key with a
 * character outside the Z85 alphabet fails with -1/EINVAL.
 * (Not tested: secrets of the wrong length; libzmq does not check them.) */
#include "testutil.h"

#include <stdint.h>

static void hex_to_bytes (const char *hex, uint8_t *out, size_t size)
{
    CHECK (strlen (hex) == size * 2);
    for (size_t i = 0; i < size; i++) {
        unsigned int byte;
        CHECK (sscanf (hex + 2 * i, "%2x", &byte) == 1);
        out[i] = (uint8_t) byte;
    }
}

static void check_vector (const char *secret_hex, const char *public_hex)
{
    uint8_t secret[32], expected_public[32];
    hex_to_bytes (secret_hex, secret, 32);
    hex_to_bytes (public_hex, expected_public, 32);

    char z85_secret[41], z85_expected[41], z85_public[41];
    CHECK (zmq_z85_encode (z85_secret, secret, 32) == z85_secret);
    CHECK (zmq_z85_encode (z85_expected, expected_public, 32) == z85_expected);

    memset (z85_public, 'X', sizeof z85_public);
    CHECK_INT_EQ (zmq_curve_public (z85_public, z85_secret), 0);
    CHECK_INT_EQ (strlen (z85_public), 40);
    CHECK_STR_EQ (z85_public, z85_expected);
}

int main (void)
{
    test_init ();

    const int has_curve = zmq_has ("curve");
    CHECK (has_curve == 0 || has_curve == 1);

    //  Keypairs: 40 chars + NUL, valid Z85 of 32 bytes.
    char public_key[41], secret_key[41];
    memset (public_key, 'X', sizeof public_key);
    memset (secret_key, 'X', sizeof secret_key);
    CHECK_INT_EQ (zmq_curve_keypair (public_key, secret_key), 0);
    CHECK_INT_EQ (strlen (public_key), 40);
    CHECK_INT_EQ (strlen (secret_key), 40);
    uint8_t public_bin[32], secret_bin[32];
    CHECK (zmq_z85_decode (public_bin, public_key) == public_bin);
    CHECK (zmq_z85_decode (secret_bin, secret_key) == secret_bin);
    CHECK (strcmp (public_key, secret_key) != 0);

    //  The public key is derived from the secret one.
    char derived[41];
    memset (derived, 'X', sizeof derived);
    CHECK_INT_EQ (zmq_curve_public (derived, secret_key), 0);
    CHECK_STR_EQ (derived, public_key);

    //  A second keypair differs, and also derives correctly.
    char public_key2[41], secret_key2[41];
    CHECK_INT_EQ (zmq_curve_keypair (public_key2, secret_key2), 0);
    CHECK (strcmp (public_key, public_key2) != 0);
    CHECK (strcmp (secret_key, secret_key2) != 0);
    CHECK_INT_EQ (zmq_curve_public (derived, secret_key2), 0);
    CHECK_STR_EQ (derived, public_key2);

    //  RFC 7748 section 6.1 X25519 vectors.
    check_vector (
      "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
      "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    check_vector (
      "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
      "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");

    //  An invalid Z85 secret is rejected by the decoder: EINVAL.
    CHECK_ERRNO (
      zmq_curve_public (derived, "invalid~~~invalid~~~invalid~~~invalid~~~"),
      EINVAL);
    char bad_secret[41];
    memcpy (bad_secret, secret_key, sizeof bad_secret);
    bad_secret[17] = ' ';
    CHECK_ERRNO (zmq_curve_public (derived, bad_secret), EINVAL);

    TEST_PASS ();
}
