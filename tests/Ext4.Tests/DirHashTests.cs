using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>Directory hashes against debugfs's dx_hash (e2fsprogs' own ext2fs_dirhash).</summary>
public partial class DirHashTests
{
    private static TestImage? s_image;

    [OneTimeSetUp]
    public void MakeImage() => s_image = TestImage.Build(_ => { }, "4M");

    [OneTimeTearDown]
    public void Cleanup() => s_image?.Dispose();

    private static readonly string[] s_names =
    [
        "a", "hello", ".", "..", "lost+found", "abcd", "abcdefghijklmnop", "abcdefghijklmnopq",
        "0123456789012345678901234567890", "01234567890123456789012345678901",
        "012345678901234567890123456789012", new string('x', 100), new string('y', 255),
        "caf\u00e9", "\u00ff\u00fe\u00e0-high-bytes", "\u65e5\u672c\u8a9e\u306e\u30d5\u30a1\u30a4\u30eb",
    ];

    private static readonly (string Name, byte Version)[] s_algorithms =
    [
        ("legacy", DirHash.DX_HASH_LEGACY), ("half_md4", DirHash.DX_HASH_HALF_MD4), ("tea", DirHash.DX_HASH_TEA),
        ("legacy_unsigned", DirHash.DX_HASH_LEGACY_UNSIGNED), ("half_md4_unsigned", DirHash.DX_HASH_HALF_MD4_UNSIGNED),
        ("tea_unsigned", DirHash.DX_HASH_TEA_UNSIGNED),
    ];

    [Test]
    public void MatchesDebugfs([Values(0, 1, 2, 3, 4, 5)] int algorithm, [Values(false, true)] bool withSeed)
    {
        var (algName, version) = s_algorithms[algorithm];
        const string seedText = "fb7b7714-f362-4e88-acf9-0b56a4565f97";
        uint[] seed = withSeed ? SeedFromUuid(seedText) : [0, 0, 0, 0];

        // One debugfs run per case: a request file with one dx_hash line per name.
        string requests = s_image!.Scratch($"req-{algorithm}-{withSeed}");
        // Numeric -h: debugfs does not parse the *_unsigned names (it falls back to legacy).
        var lines = s_names.Select(n => $"dx_hash -h {version}{(withSeed ? " -s " + seedText : "")} {n}");
        File.WriteAllLines(requests, lines, new UTF8Encoding(false));
        var r = Tool.Check("debugfs", "-f", requests, s_image.ImagePath);
        var matches = HashLine().Matches(r);
        Assert.That(matches, Has.Count.EqualTo(s_names.Length), r);

        for (int i = 0; i < s_names.Length; i++)
        {
            uint expected = uint.Parse(matches[i].Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            uint actual = DirHash.Hash(Encoding.UTF8.GetBytes(s_names[i]), version, seed);
            Assert.That(actual, Is.EqualTo(expected), $"{algName} of '{s_names[i]}'");
        }
    }

    [Test]
    public void SignedAndUnsignedDifferOnlyForHighBytes()
    {
        var ascii = "plain-ascii"u8.ToArray();
        var high = Encoding.UTF8.GetBytes("h\u00e9llo");
        uint[] seed = [0, 0, 0, 0];
        Assert.Multiple(() =>
        {
            Assert.That(DirHash.Hash(ascii, DirHash.DX_HASH_TEA, seed), Is.EqualTo(DirHash.Hash(ascii, DirHash.DX_HASH_TEA_UNSIGNED, seed)));
            Assert.That(DirHash.Hash(high, DirHash.DX_HASH_TEA, seed), Is.Not.EqualTo(DirHash.Hash(high, DirHash.DX_HASH_TEA_UNSIGNED, seed)));
            Assert.That(DirHash.Hash(high, DirHash.DX_HASH_LEGACY, seed), Is.Not.EqualTo(DirHash.Hash(high, DirHash.DX_HASH_LEGACY_UNSIGNED, seed)));
        });
    }

    /// <summary>s_hash_seed is the UUID's 16 bytes read as four little-endian words.</summary>
    private static uint[] SeedFromUuid(string uuid)
    {
        var bytes = Convert.FromHexString(uuid.Replace("-", ""));
        return [.. Enumerable.Range(0, 4).Select(i => BitConverter.ToUInt32(bytes, 4 * i))];
    }

    [GeneratedRegex(@"Hash of .* is 0x([0-9a-f]+)")]
    private static partial Regex HashLine();
}
