using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct ucred (sys/socket.h), the SO_PEERCRED answer: pid_t pid; uid_t uid; gid_t gid.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PeerCredentials
{
    public int pid;
    public uint uid;
    public uint gid;
}
