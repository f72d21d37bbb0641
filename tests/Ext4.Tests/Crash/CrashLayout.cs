namespace Safemount.Ext4.Tests.Crash;

/// <summary>An mkfs.ext4 layout for crash tests: small images (so states are cheap) with journals small enough to wrap under a workload.</summary>
internal sealed record CrashLayout(string Name, string Size, string[] Mkfs)
{
    /// <summary>
    /// mkfs options that make the image the same on every run (UUID, and the directory hash
    /// seed that decides htree splits), so a seed replays the same device log — up to the
    /// engine's own randomness (inode generations; the Orlov-style random start group of a
    /// top-level directory, which only matters with more than one group).
    /// </summary>
    private static readonly string[] s_fixed = ["-U", "5afe3007-c5a5-4e57-9b1d-000000000005", "-E", "hash_seed=5afe3007-0000-4000-8000-000000000005"];

    /// <summary>4 KiB blocks with mkfs's ext4 defaults (metadata_csum, 64bit, flex_bg, extents) and the smallest journal (1024 blocks).</summary>
    public static CrashLayout Default4K { get; } = new("4k-csum-64bit-flexbg", "32M", ["-b", "4096", "-J", "size=4", .. s_fixed]);

    /// <summary>1 KiB blocks, a 1 MiB journal (1024 blocks): many groups, and the log wraps and checkpoints under load.</summary>
    public static CrashLayout Small1K { get; } = new("1k-journal1m", "16M", ["-b", "1024", "-J", "size=1", .. s_fixed]);

    /// <summary>ext3: block maps instead of extents, no checksums, 1 KiB blocks and a 1 MiB journal.</summary>
    public static CrashLayout Ext3 { get; } = new("ext3-1k", "16M", ["-t", "ext3", "-b", "1024", "-J", "size=1", .. s_fixed]);

    public override string ToString() => Name;
}
