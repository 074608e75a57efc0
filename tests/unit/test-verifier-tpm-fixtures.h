/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TPM structures a real TPM made, shared by the verifier's tpm2b and tpmcrypto unit tests, and
 * hex helpers. Include after <cmocka.h>. */
#pragma once

/* Captured from swtpm: `tpm2_createek -G rsa|ecc|ecc384 -u`, AKs from `tpm2_createprimary -C e
 * -g sha256 -G ecc256:ecdsa-sha256:null|rsa2048:rsassa-sha256:null -a
 * 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign'` + `tpm2_readpublic
 * -o`, a sealed data object from `tpm2_create` under an SRK, and `tpm2_quote -l
 * sha256:0,1,2,7,15 -q 0011 -g sha256` (the TPMS_ATTEST given its TPM2B size). */
#define EK_RSA                                                                                     \
        "013a0001000b000300b20020837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469"   \
        "aa00060080004300100800000000000100e2811d2afe3f87fa4c53132b52bd3aa0a0b694967870a34305a2"   \
        "b0fe5860c0c7f4080abe8c6352b2fed56fa2a520233da0684f10d6f3de98f37139a5dcf422c53222dc9bb8"   \
        "380fc90066b4f5bdf611db7ced0dc57c2ddfa524f2cdaa56bab72bd54345ee98334831da0bf38b492925d0"   \
        "6af4100b13a54434f0a49cc0211340889bd54d5ef2a364545bf4bcff9d1fd6fba1d09b5ccced6ba5005ea8"   \
        "c9301c5c44ded4b6b2111877a174e2d2936202e9fd535dabff266db6a9367b9553c0cff451b11a8e48b70a"   \
        "473a9bf28da0213f86aa98b66218a64f95d4f3ea64fc0a8cd13b0b52bfdf38f3f82f9eac1b0c65ebdc80ed"   \
        "a9cdcf94563643667474543bd82f2f"
#define EK_RSA_NAME "000b88021d71deace3b14c83b01ffeeeba4502bd91a0c5c5a904583a42ce181ebac1"
#define EK_ECC                                                                                     \
        "007a0023000b000300b20020837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469"   \
        "aa00060080004300100003001000202ad80e8f10807e73c17220ebb9ffea8c08f31d4b0bd1d9f3419e3e25"   \
        "c93011d60020aa6649a901a259c6e3503ba3ffa62a6fb407af5a11ce6f2d36e9b40a234d9ee1"
#define EK_ECC_NAME "000bc61bb3b0fcaa8d4dd9a8b09550b60d267898333e88b63b3ee7ac98eae8e6a50d"
#define EK_P384                                                                                    \
        "00aa0023000c000300f20030b26e7d28d11a50bc53d882bcf5fd3a1a074148bb35d3b4e4cb1c0ad9bde419"   \
        "cacb47ba09699646150f9fc000f3f80e12000601000043001000040010003064ec6cc38a0494261164319d"   \
        "905f040ed8078c0a0e0e672b26596649d458a8dae278f1b9b8f8872413ad9300c909fd5800308d73fe4685"   \
        "a3caed6e83c48c5e9e2a531b5458a7f7e9f4d75a5b89bd8eb1b9ee3a3aabaf0644552010e09d559cf5f409"
#define EK_P384_NAME                                                                               \
        "000cb15407882aef385906dbce3ea6301a33009ad1a942ccb108ed0b2759520ccea6f79727bd3ffb572de3"   \
        "5027d64fd780c6"
#define AK_ECC                                                                                     \
        "00580023000b00050072000000100018000b00030010002006501959a64957cbc96eea951d32734047fccb"   \
        "8f80da7ed0f27ac4329cc511f80020f21ef8a3439281a93b2cd17287d0a0845cdcb9f6c756cad786e22bc1"   \
        "bf944e39"
#define AK_ECC_NAME "000b1c09512d1935573bc62b44ca7cd3185aea31baf38eb98cd60ca2a1520d10c2fa"
#define AK_RSA                                                                                     \
        "01180001000b00050072000000100014000b0800000000000100a90a8196127789caf3a8b0d5af33abb38d"   \
        "bf975917b485e368053071b5068a423b89780dd061fc91d07d72528ce254694b21e1a6680ea7ac5f703576"   \
        "f67fb685b519809dc737648fb14c5dc5a42a7a5c082c27af4f668f389edc116c50c859f85ed93cdb48ac3d"   \
        "b0a72b8db27f3fb35ec9bcd80187d0487a491f8a914940d823f2f7ab45ebc66453f191f92f5b32f16b5d01"   \
        "7cf48dd3d584d0ce0c481b756c85dad5c0716ffbdb90589498514192a868df193fefae96abdc8944f2fa56"   \
        "603524872ec45a3760bb56d513d5c3353cc279b602f9fea0680ac5e8556e0f7a6f385daa4a64336bf12747"   \
        "d52af143314d263a946cd3755dac67ce1fd65eec39c2bd5f"
#define AK_RSA_NAME "000bedd069240f8f2a382c53e7fec1ed1c31216f3d8fe4a34fc28019abdfbf0c9786"
#define SEALED                                                                                     \
        "002e0008000b000000520000001000200c2a105e12902a51537a6707985bcb817e09dbce565f180200a99c"   \
        "f12007428d"
#define SEALED_NAME "000bc0d43553d3256c900d1d552d13e865dffe16a381504f6182ea9ae4f9c8542291"
#define QUOTE_ECC                                                                                  \
        "0073ff54434780180022000be9d2ca2c58ec562231b7de9968f620e02a184c67ee96066f3d7b63b08e98f6"   \
        "da000200110000000000001aba000000010000000001201910230016363600000001000b03878000002"      \
        "0b393978842a0fa3d3e1470196f098f473f9678e72463cb65ec4ab5581856c2e4"
#define SIG_ECC                                                                                    \
        "0018000b0020c869e99f951a33e77e1f6f2f790d85c1611f3f636b7352009f6c42c3e9d352490020038b7a"   \
        "a7001971d29cf958a32058602b8a2c7d707402a3b434b127e03d7f2494"
#define QUOTE_RSA                                                                                  \
        "0073ff54434780180022000b52624f6bd1476b76b36f91166868639c3eb37c0f381995fb312dc30d57b1ba"   \
        "2a000200110000000000001afa000000010000000001201910230016363600000001000b03878000002"      \
        "0b393978842a0fa3d3e1470196f098f473f9678e72463cb65ec4ab5581856c2e4"
#define SIG_RSA                                                                                    \
        "0014000b010092d1435e2c8bb9d39fa00b8e398d197eda9d6e919d5812ed393e15872e5d62e229e2504631"   \
        "e3fcdb5c3606f52c4edf9d4db9289d5e407fc0a80d789723ef64ba8dc3d5edfc1a609f18834a77a567e3f5"   \
        "a56be9003e001fef2a4474b166a3f101c1fda2252afe2dd98dc9e83430beeee34b7d0f9c9e5782e6fc89c9"   \
        "617681025e1cc2de5b2f48959065135726e07a5b06d442348b0a81b08d99d77d0e1ee3272d365473b7d19c"   \
        "5afa627f5fe8e49dc9c9c4a9a69eda13b0e9df90d69482a16a9346ab50853c2697a6f32fb7633f51307337"   \
        "5e7ab95fcaed67de0b5780db9a5387bbbe34d5eb3a3e020c7ee31fec62a9396278adf15257164ef90cf70b"   \
        "0402eda1"
/* SHA-256 of five zero PCRs: swtpm's PCRs 0, 1, 2, 7, 15 before anything extends them */
#define PCR_DIGEST "b393978842a0fa3d3e1470196f098f473f9678e72463cb65ec4ab5581856c2e4"

#define BUF_MAX 1024

struct bytes {
        uint8_t b[BUF_MAX];
        size_t n;
};

static struct bytes unhex(const char *s)
{
        struct bytes r = {};

        assert_true(strlen(s) % 2 == 0 && strlen(s) / 2 <= BUF_MAX);
        for (r.n = 0; s[2 * r.n]; r.n++) {
                unsigned v;
                assert_int_equal(sscanf(s + 2 * r.n, "%2x", &v), 1);
                r.b[r.n] = v;
        }
        return r;
}

static void assert_hex(const uint8_t *b, size_t n, const char *want)
{
        struct bytes w = unhex(want);

        assert_int_equal(n, w.n);
        assert_memory_equal(b, w.b, n);
}
