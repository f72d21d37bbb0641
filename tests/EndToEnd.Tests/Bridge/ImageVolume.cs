using Microsoft.Win32.SafeHandles;
using Safemount.Ext4;
using Safemount.Ext4.Storage;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>
/// An image file opened as the service opens its device: a handle (read-write unless the
/// options say read-only), a <see cref="FileBlockDevice"/> over it and the <see cref="Ext4Volume"/>.
/// Owns all three and disposes them in reverse order.
/// </summary>
internal sealed class ImageVolume : IDisposable
{
    private readonly FileBlockDevice _device;

    private ImageVolume(SafeFileHandle handle, FileBlockDevice device, Ext4Volume volume)
    {
        Handle = handle;
        _device = device;
        Volume = volume;
    }

    /// <summary>The image's handle (what the bridge is given as its block device).</summary>
    public SafeFileHandle Handle { get; }

    public Ext4Volume Volume { get; }

    public static ImageVolume Open(string image, Ext4OpenOptions options)
    {
        SafeFileHandle handle = File.OpenHandle(image, FileMode.Open, options.ReadOnly ? FileAccess.Read : FileAccess.ReadWrite);
        FileBlockDevice? device = null;
        try
        {
            device = new FileBlockDevice(handle, new FileInfo(image).Length, writable: !options.ReadOnly);
            return new ImageVolume(handle, device, Ext4Volume.Open(device, options));
        }
        catch
        {
            device?.Dispose();
            handle.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Volume.Dispose();
        _device.Dispose();
        Handle.Dispose();
    }
}
