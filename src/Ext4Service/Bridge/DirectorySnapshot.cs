using Safemount.Ext4;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// The entries of one directory as read at OPENDIR. READDIR offsets are indexes into
/// <see cref="Entries"/>: entry i is followed by offset i + 1, so a reader that resumes at any
/// offset the kernel was given sees every entry exactly once.
/// </summary>
internal sealed class DirectorySnapshot
{
    public DirectorySnapshot(uint inode, IReadOnlyList<Ext4DirEntry> entries)
    {
        Inode = inode;
        Entries = entries;
    }

    public uint Inode { get; }

    public IReadOnlyList<Ext4DirEntry> Entries { get; }
}
