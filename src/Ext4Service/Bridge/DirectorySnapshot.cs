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

    /// <summary>
    /// Set once a READDIR was answered from this snapshot: a later READDIR at offset 0 is then a
    /// rewinddir(3), not the first read after OPENDIR, and must see the directory as it is now.
    /// Racy by design: two readers of one handle at once at worst re-read the directory once more.
    /// </summary>
    public bool Served { get; set; }
}
