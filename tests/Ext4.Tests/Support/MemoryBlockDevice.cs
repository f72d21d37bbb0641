using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Support;

/// <summary>An image held in memory (for mutation tests that corrupt many copies of one real image).</summary>
internal sealed class MemoryBlockDevice(byte[] image) : IBlockDevice
{
    public long Length => image.Length;

    public void Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > image.Length || destination.Length > image.Length - offset)
        {
            throw new Ext4IOException($"read of {destination.Length} bytes at offset {offset} is beyond the end of the device");
        }

        image.AsSpan((int)offset, destination.Length).CopyTo(destination);
    }
}
