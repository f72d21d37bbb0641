namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// A directory's blocks in memory for <see cref="DirectoryEditor"/> unit tests, with the
/// engine's copy-on-write contract: an installed array is never mutated again, Modify edits a
/// copy. <see cref="MaxBlocks"/> makes appends fail (ENOSPC).
/// </summary>
internal sealed class DirsMemoryBlocks(int blockSize) : IDirectoryBlocks
{
    private readonly List<byte[]> _blocks = [];

    public int BlockSize { get; } = blockSize;

    public uint Count => (uint)_blocks.Count;

    public int MaxBlocks { get; set; } = int.MaxValue;

    public bool Indexed { get; private set; }

    public int Appends { get; private set; }

    public byte[]? Read(uint lblk) => _blocks[(int)lblk];

    public void Modify(uint lblk, DirectoryBlockEdit edit)
    {
        var copy = (byte[])_blocks[(int)lblk].Clone();
        edit(copy);
        _blocks[(int)lblk] = copy;
    }

    public bool TryAppend(DirectoryBlockEdit init, out uint lblk)
    {
        lblk = 0;
        if (_blocks.Count >= MaxBlocks)
        {
            return false;
        }

        var b = new byte[BlockSize];
        init(b);
        lblk = (uint)_blocks.Count;
        _blocks.Add(b);
        Appends++;
        return true;
    }

    public void SetIndexed() => Indexed = true;
}
