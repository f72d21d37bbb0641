using Microsoft.Win32.SafeHandles;
using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Support;

/// <summary>
/// An ext4 image file built with <c>mkfs.ext4 -q -F -d SRC IMG SIZE</c> plus extra options,
/// and helpers to open it with the engine.
/// </summary>
internal sealed class TestImage : IDisposable
{
    private readonly TempDir _dir;

    private TestImage(TempDir dir, string imagePath, string sourcePath)
    {
        _dir = dir;
        ImagePath = imagePath;
        SourcePath = sourcePath;
    }

    public string ImagePath { get; }

    /// <summary>The directory the image was populated from (still present).</summary>
    public string SourcePath { get; }

    public string Scratch(string name) => _dir[name];

    /// <summary>
    /// Creates an empty source directory, lets <paramref name="populate"/> fill it, and runs mkfs.
    /// <paramref name="mkfsOptions"/> are inserted before the image path (e.g. "-b", "1024").
    /// </summary>
    public static TestImage Build(Action<string> populate, string size, params string[] mkfsOptions) =>
        Build(populate, size, fill: null, mkfsOptions);

    /// <summary>
    /// As above; with <paramref name="fill"/>, the image file is first filled with that byte
    /// (<paramref name="size"/> must then be in MiB, "NNM") and mkfs must not discard it, so
    /// free blocks hold garbage rather than zeros.
    /// </summary>
    public static TestImage Build(Action<string> populate, string size, byte? fill, params string[] mkfsOptions)
    {
        var dir = new TempDir();
        try
        {
            string src = dir["src"];
            Directory.CreateDirectory(src);
            populate(src);
            string img = dir["fs.img"];
            var args = new List<string> { "-q", "-F" };
            if (fill is byte b)
            {
                var mib = new byte[1 << 20];
                Array.Fill(mib, b);
                using var fs = new FileStream(img, FileMode.CreateNew);
                for (int i = 0; i < int.Parse(size.TrimEnd('M'), System.Globalization.CultureInfo.InvariantCulture); i++)
                {
                    fs.Write(mib);
                }

                args.AddRange(["-E", "nodiscard"]);
            }

            args.AddRange(mkfsOptions);
            args.AddRange(["-d", src, img, size]);
            Tool.Check("mkfs.ext4", [.. args]);
            return new TestImage(dir, img, src);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Opens the image read-only through <see cref="FileBlockDevice"/>.</summary>
    public OpenedVolume Open(long cacheBytes = 64 << 20) => OpenPath(ImagePath, cacheBytes);

    public static OpenedVolume OpenPath(string path, long cacheBytes = 64 << 20)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle));
        try
        {
            var volume = Ext4Volume.Open(device, new Ext4OpenOptions { CacheBytes = cacheBytes });
            return new OpenedVolume(device, volume);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Opens the image read-write (the engine's write path; dispose unmounts it cleanly).</summary>
    public OpenedVolume OpenWritable(long cacheBytes = 64 << 20) => OpenPathWritable(ImagePath, cacheBytes);

    public static OpenedVolume OpenPathWritable(string path, long cacheBytes = 64 << 20)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true);
        try
        {
            var volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, CacheBytes = cacheBytes });
            return new OpenedVolume(device, volume);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Overwrites bytes of the image file at <paramref name="offset"/>.</summary>
    public void Patch(long offset, ReadOnlySpan<byte> bytes)
    {
        using SafeFileHandle h = File.OpenHandle(ImagePath, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.Write(h, bytes, offset);
    }

    public byte[] ReadImage(long offset, int count)
    {
        using SafeFileHandle h = File.OpenHandle(ImagePath, FileMode.Open, FileAccess.Read);
        var b = new byte[count];
        int n = RandomAccess.Read(h, b, offset);
        return b[..n];
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>A volume and the device under it, disposed together.</summary>
internal sealed class OpenedVolume(FileBlockDevice device, Ext4Volume volume) : IDisposable
{
    public Ext4Volume Volume { get; } = volume;

    public void Dispose()
    {
        Volume.Dispose();
        device.Dispose();
    }
}
