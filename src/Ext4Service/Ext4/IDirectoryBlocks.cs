namespace Safemount.Ext4;

/// <summary>
/// The blocks of one directory by logical number, as <see cref="DirectoryEditor"/> edits them.
/// The engine's implementation reads through the block cache and edits through the running
/// transaction handle; the caller holds the directory's inode lock exclusive, so nothing else
/// changes these blocks meanwhile.
/// </summary>
internal interface IDirectoryBlocks
{
    /// <summary>File-system block size in bytes.</summary>
    int BlockSize { get; }

    /// <summary>Blocks in the directory: i_size / block size.</summary>
    uint Count { get; }

    /// <summary>The current bytes of logical block <paramref name="lblk"/> (&lt; Count); null for a hole. Never mutated by the caller.</summary>
    byte[]? Read(uint lblk);

    /// <summary>Edits mapped logical block <paramref name="lblk"/> (copy, edit, install).</summary>
    void Modify(uint lblk, DirectoryBlockEdit edit);

    /// <summary>
    /// Allocates logical block Count (i_size grows by one block), zero-filled and then passed to
    /// <paramref name="init"/>. False when no block could be allocated (ENOSPC); nothing changed then.
    /// </summary>
    bool TryAppend(DirectoryBlockEdit init, out uint lblk);

    /// <summary>Sets EXT4_INDEX_FL on the directory inode (the first block just became a dx_root).</summary>
    void SetIndexed();
}
