using Safemount.Shared.Interop;

namespace Safemount.Shared.Tests;

/// <summary>Real fds for tests: socketpairs, temp files, and the process's open-fd count.</summary>
internal static class TestFds
{
    public static (SafeFd A, SafeFd B) SeqPacketPair() =>
        SocketInterop.SocketPair(SocketInterop.AF_UNIX, SocketInterop.SOCK_SEQPACKET);

    /// <summary>
    /// How many of this process's fds refer to <paramref name="path"/> (readlink of /proc/self/fd/N).
    /// Counting one unique file is immune to fds other test-host threads open meanwhile.
    /// </summary>
    public static int FdsReferring(string path)
    {
        int n = 0;
        foreach (string link in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(link).LinkTarget == path)
                {
                    n++;
                }
            }
            catch (IOException)
            {
                // The fd closed while we listed the directory.
            }
        }

        return n;
    }

    /// <summary>A temp regular file of <paramref name="size"/> bytes, opened O_RDWR.</summary>
    public static SafeFd TempFile(long size, out string path)
    {
        path = Path.Combine(Path.GetTempPath(), $"safemount-test-{Guid.NewGuid():N}.img");
        using (FileStream f = File.Create(path))
        {
            f.SetLength(size);
        }

        return FileInterop.Open(path, FileInterop.O_RDWR);
    }
}
