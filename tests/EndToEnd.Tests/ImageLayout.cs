namespace Safemount.EndToEnd.Tests;

/// <summary>One filesystem layout of the end-to-end matrix.</summary>
/// <param name="Name">image label and file name</param>
/// <param name="MkfsArguments">extra mkfs.ext4 arguments that select the layout</param>
/// <param name="Size">image size as mkfs.ext4 takes it</param>
/// <param name="BigDirEntries">entries in the big (htree) directory</param>
/// <param name="Sparse5G">include the 5 GiB sparse file (slow for mkfs to scan; once is enough)</param>
/// <param name="Seed">content seed</param>
/// <param name="KernelWritten">populate the image through a kernel ext4 mount instead of
/// `mkfs.ext4 -d`: the kernel as reference writer gives nanosecond timestamps, creation times,
/// unwritten extents and the extent trees and htrees the kernel itself builds</param>
public sealed record ImageLayout(string Name, string[] MkfsArguments, string Size, int BigDirEntries, bool Sparse5G, int Seed, bool KernelWritten = false)
{
    public override string ToString() => Name;
}
