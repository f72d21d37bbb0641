namespace Safemount.Ext4.Tests.Crash;

/// <summary>An mkfs.ext4 layout for crash tests: small images (so states are cheap) with journals small enough to wrap under a workload.</summary>
internal sealed record CrashLayout(string Name, string Size, string[] Mkfs)
{
    /// <summary>4 KiB blocks with mkfs's ext4 defaults (metadata_csum, 64bit, flex_bg, extents) and the smallest journal (1024 blocks).</summary>
    public static CrashLayout Default4K { get; } = new("4k-csum-64bit-flexbg", "32M", ["-b", "4096", "-J", "size=4"]);

    /// <summary>1 KiB blocks, a 1 MiB journal (1024 blocks): many groups, and the log wraps and checkpoints under load.</summary>
    public static CrashLayout Small1K { get; } = new("1k-journal1m", "16M", ["-b", "1024", "-J", "size=1"]);

    /// <summary>ext3: block maps instead of extents, no checksums, 1 KiB blocks and a 1 MiB journal.</summary>
    public static CrashLayout Ext3 { get; } = new("ext3-1k", "16M", ["-t", "ext3", "-b", "1024", "-J", "size=1"]);

    public override string ToString() => Name;
}
