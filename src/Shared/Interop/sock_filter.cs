using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct sock_filter (linux/filter.h), 8 bytes: one classic BPF instruction.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct sock_filter
{
    public ushort code; // BPF_LD/BPF_JMP/BPF_RET... | size | mode
    public byte jt;     // instructions to skip when the jump condition holds
    public byte jf;     // instructions to skip when it does not
    public uint k;      // the constant operand (offset, value or return value)

    public sock_filter(ushort code, byte jt, byte jf, uint k)
    {
        this.code = code;
        this.jt = jt;
        this.jf = jf;
        this.k = k;
    }
}
