namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// One kind of base image the harness mutates: mkfs options (or the kernel as writer), the
/// image size, and how many mutated images of it one run makes (scaled by
/// SAFEMOUNT_MUTATION_SCALE).
/// </summary>
internal sealed record BaseLayout(string Name, string[] MkfsOptions, string Size, int Images, bool KernelWritten = false)
{
    /// <summary>
    /// The layouts of issue 3: metadata_csum 4k, no csum with crc16 descriptors and ^64bit, ext2
    /// 1k with 128-byte inodes, inline_data, bigalloc, meta_bg (32 groups: two meta groups), and
    /// a kernel-written image. Small groups (-g) give several groups with backup superblocks.
    /// </summary>
    public static readonly BaseLayout[] All =
    [
        new("csum-4k", ["-b", "4096", "-g", "512", "-O", "metadata_csum,64bit"], "8M", 2000),
        new("nocsum-4k-32bit", ["-b", "4096", "-g", "1024", "-O", "^metadata_csum,^64bit,uninit_bg"], "8M", 1500),
        new("ext2-1k-128", ["-t", "ext2", "-b", "1024", "-g", "2048", "-I", "128"], "8M", 1500),
        new("inline-4k", ["-b", "4096", "-O", "inline_data,metadata_csum"], "8M", 1500),
        new("bigalloc-4k", ["-b", "4096", "-O", "bigalloc,metadata_csum", "-C", "16384"], "16M", 1200),
        new("metabg-1k-64bit", ["-b", "1024", "-g", "256", "-O", "meta_bg,^resize_inode,64bit,metadata_csum"], "8M", 1300),
        new("kernel-4k", ["-b", "4096", "-g", "1024"], "16M", 1200, KernelWritten: true),
    ];

    public override string ToString() => Name;
}
