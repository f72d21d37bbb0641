namespace Safemount.Ext4;

/// <summary>
/// Directory index hashes (kernel fs/ext4/hash.c, ext4fs_dirhash): legacy (dx_hack_hash), half
/// MD4 and TEA, each with signed- and unsigned-char variants chosen by s_flags. Written from
/// the algorithm description; pinned by tests against debugfs's dx_hash.
/// </summary>
internal static class DirHash
{
    public const byte DX_HASH_LEGACY = 0;
    public const byte DX_HASH_HALF_MD4 = 1;
    public const byte DX_HASH_TEA = 2;
    public const byte DX_HASH_LEGACY_UNSIGNED = 3;
    public const byte DX_HASH_HALF_MD4_UNSIGNED = 4;
    public const byte DX_HASH_TEA_UNSIGNED = 5;
    public const byte DX_HASH_SIPHASH = 6;

    /// <summary>EXT4_HTREE_EOF_32BIT: the largest 31-bit hash, reserved as an end marker.</summary>
    public const uint HtreeEof32 = 0x7FFFFFFF;

    private static readonly uint[] s_defaultSeed = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

    /// <summary>
    /// The major hash of <paramref name="name"/> (low bit clear). <paramref name="seed"/> is
    /// s_hash_seed; all-zero means the MD4 default. Throws for an unknown version.
    /// </summary>
    public static uint Hash(ReadOnlySpan<byte> name, byte version, ReadOnlySpan<uint> seed)
    {
        Span<uint> buf = stackalloc uint[4];
        s_defaultSeed.CopyTo(buf);
        if (seed.Length == 4 && seed.ContainsAnyExcept(0u))
        {
            seed.CopyTo(buf);
        }

        Span<uint> input = stackalloc uint[8];
        uint hash;
        switch (version)
        {
            case DX_HASH_LEGACY:
                hash = DxHackHash(name, signed: true);
                break;
            case DX_HASH_LEGACY_UNSIGNED:
                hash = DxHackHash(name, signed: false);
                break;
            case DX_HASH_HALF_MD4:
            case DX_HASH_HALF_MD4_UNSIGNED:
            {
                bool signed = version == DX_HASH_HALF_MD4;
                var p = name;
                while (!p.IsEmpty)
                {
                    StrToHashBuf(p, input, 8, signed);
                    HalfMd4Transform(buf, input);
                    p = p.Length > 32 ? p[32..] : [];
                }

                hash = buf[1];
                break;
            }

            case DX_HASH_TEA:
            case DX_HASH_TEA_UNSIGNED:
            {
                bool signed = version == DX_HASH_TEA;
                var p = name;
                while (!p.IsEmpty)
                {
                    StrToHashBuf(p, input, 4, signed);
                    TeaTransform(buf, input);
                    p = p.Length > 16 ? p[16..] : [];
                }

                hash = buf[0];
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(version), version, "unsupported directory hash version");
        }

        hash &= ~1u;
        if (hash == HtreeEof32 << 1)
        {
            hash = (HtreeEof32 - 1) << 1;
        }

        return hash;
    }

    /// <summary>dx_hack_hash: the original ext3 hash; chars sign-extended or not.</summary>
    private static uint DxHackHash(ReadOnlySpan<byte> name, bool signed)
    {
        uint hash0 = 0x12a3fe2d, hash1 = 0x37abe8f9;
        foreach (byte b in name)
        {
            int c = signed ? (sbyte)b : b;
            uint hash = hash1 + (hash0 ^ (uint)(c * 7152373));
            if ((hash & 0x80000000) != 0)
            {
                hash -= 0x7fffffff;
            }

            hash1 = hash0;
            hash0 = hash;
        }

        return hash0 << 1;
    }

    /// <summary>
    /// str2hashbuf: packs up to num*4 chars big-endian-ish into num words, padding with the
    /// length byte repeated (the pad covers the rest of the final word and the unused words).
    /// <paramref name="msg"/> is the whole remaining name; its full length feeds the pad.
    /// </summary>
    private static void StrToHashBuf(ReadOnlySpan<byte> msg, Span<uint> buf, int num, bool signed)
    {
        int len = msg.Length;
        uint pad = (uint)len | ((uint)len << 8);
        pad |= pad << 16;
        uint val = pad;
        if (len > num * 4)
        {
            len = num * 4;
        }

        int o = 0;
        for (int i = 0; i < len; i++)
        {
            int c = signed ? (sbyte)msg[i] : msg[i];
            val = (uint)c + (val << 8);
            if ((i % 4) == 3)
            {
                buf[o++] = val;
                val = pad;
                num--;
            }
        }

        if (--num >= 0)
        {
            buf[o++] = val;
        }

        while (--num >= 0)
        {
            buf[o++] = pad;
        }
    }

    private const uint TeaDelta = 0x9E3779B9;

    private static void TeaTransform(Span<uint> buf, ReadOnlySpan<uint> input)
    {
        uint sum = 0;
        uint b0 = buf[0], b1 = buf[1];
        uint a = input[0], b = input[1], c = input[2], d = input[3];
        for (int n = 0; n < 16; n++)
        {
            sum += TeaDelta;
            b0 += ((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >> 5) + b);
            b1 += ((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >> 5) + d);
        }

        buf[0] += b0;
        buf[1] += b1;
    }

    private const uint K1 = 0;
    private const uint K2 = 0x5A827999; // 013240474631 octal: sqrt(2) * 2^30
    private const uint K3 = 0x6ED9EBA1; // 015666365641 octal: sqrt(3) * 2^30

    private static uint F(uint x, uint y, uint z) => z ^ (x & (y ^ z));

    private static uint G(uint x, uint y, uint z) => (x & y) + ((x ^ y) & z);

    private static uint H(uint x, uint y, uint z) => x ^ y ^ z;

    private static uint Rol(uint x, int s) => (x << s) | (x >> (32 - s));

    /// <summary>Three rounds of 8 steps of MD4 over 8 input words ("half" MD4).</summary>
    private static void HalfMd4Transform(Span<uint> buf, ReadOnlySpan<uint> x)
    {
        uint a = buf[0], b = buf[1], c = buf[2], d = buf[3];

        a = Rol(a + F(b, c, d) + x[0] + K1, 3);
        d = Rol(d + F(a, b, c) + x[1] + K1, 7);
        c = Rol(c + F(d, a, b) + x[2] + K1, 11);
        b = Rol(b + F(c, d, a) + x[3] + K1, 19);
        a = Rol(a + F(b, c, d) + x[4] + K1, 3);
        d = Rol(d + F(a, b, c) + x[5] + K1, 7);
        c = Rol(c + F(d, a, b) + x[6] + K1, 11);
        b = Rol(b + F(c, d, a) + x[7] + K1, 19);

        a = Rol(a + G(b, c, d) + x[1] + K2, 3);
        d = Rol(d + G(a, b, c) + x[3] + K2, 5);
        c = Rol(c + G(d, a, b) + x[5] + K2, 9);
        b = Rol(b + G(c, d, a) + x[7] + K2, 13);
        a = Rol(a + G(b, c, d) + x[0] + K2, 3);
        d = Rol(d + G(a, b, c) + x[2] + K2, 5);
        c = Rol(c + G(d, a, b) + x[4] + K2, 9);
        b = Rol(b + G(c, d, a) + x[6] + K2, 13);

        a = Rol(a + H(b, c, d) + x[3] + K3, 3);
        d = Rol(d + H(a, b, c) + x[7] + K3, 9);
        c = Rol(c + H(d, a, b) + x[2] + K3, 11);
        b = Rol(b + H(c, d, a) + x[6] + K3, 15);
        a = Rol(a + H(b, c, d) + x[1] + K3, 3);
        d = Rol(d + H(a, b, c) + x[5] + K3, 9);
        c = Rol(c + H(d, a, b) + x[0] + K3, 11);
        b = Rol(b + H(c, d, a) + x[4] + K3, 15);

        buf[0] += a;
        buf[1] += b;
        buf[2] += c;
        buf[3] += d;
    }
}
