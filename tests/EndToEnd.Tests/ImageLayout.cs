namespace Safemount.EndToEnd.Tests;

/// <summary>One filesystem layout of the end-to-end matrix.</summary>
/// <param name="Name">image label and file name</param>
/// <param name="MkfsArguments">extra mkfs.ext4 arguments that select the layout</param>
/// <param name="Size">image size as mkfs.ext4 takes it</param>
/// <param name="BigDirEntries">entries in the big (htree) directory</param>
/// <param name="Sparse5G">include the 5 GiB sparse file (slow for mkfs to scan; once is enough)</param>
/// <param name="Seed">content seed</param>
public sealed record ImageLayout(string Name, string[] MkfsArguments, string Size, int BigDirEntries, bool Sparse5G, int Seed)
{
    public override string ToString() => Name;
}
