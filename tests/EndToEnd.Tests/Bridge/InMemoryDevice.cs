using Safemount.Ext4;
using Safemount.Ext4.Storage;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>A mutated image held in memory behind the engine's device interface.</summary>
internal sealed class InMemoryDevice(byte[] image) : IBlockDevice
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
