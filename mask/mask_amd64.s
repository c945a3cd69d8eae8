//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// MASKTAIL masks the CX < 128 bytes left at DI with the 8-byte key in AX
// (aligned to DI): 16, 8, 4 and single bytes at a time, then returns.
#define MASKTAIL \
	MOVQ       AX, X0 \
	PUNPCKLQDQ X0, X0 \
loop16: \
	CMPQ  CX, $16 \
	JB    tail8 \
	MOVOU (DI), X1 \
	PXOR  X0, X1 \
	MOVOU X1, (DI) \
	ADDQ  $16, DI \
	SUBQ  $16, CX \
	JMP   loop16 \
tail8: \
	CMPQ CX, $8 \
	JB   tail4 \
	XORQ AX, (DI) \
	ADDQ $8, DI \
	SUBQ $8, CX \
tail4: \
	CMPQ CX, $4 \
	JB   tail1 \
	XORL AX, (DI) \
	ADDQ $4, DI \
	SUBQ $4, CX \
tail1: \
	TESTQ CX, CX \
	JZ    done \
	XORB  AL, (DI) \
	SHRQ  $8, AX \
	INCQ  DI \
	DECQ  CX \
	JMP   tail1 \
done: \
	RET

// func xorAVX2(p *byte, n int, k64 uint64)
// Masks all n bytes: 128-byte blocks with AVX2, the rest with MASKTAIL.
TEXT ·xorAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ k64+16(FP), AX
	MOVQ AX, X0
	VPBROADCASTQ X0, Y0
	CMPQ CX, $128
	JB   avx2done

avx2loop:
	VPXOR   (DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     avx2loop

avx2done:
	VZEROUPPER
	MASKTAIL

// func xorSSE2(p *byte, n int, k64 uint64)
// Masks all n bytes: 64-byte blocks with SSE2, the rest with MASKTAIL.
TEXT ·xorSSE2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ k64+16(FP), AX
	MOVQ AX, X0
	PUNPCKLQDQ X0, X0
	CMPQ CX, $64
	JB   sse2done

sse2loop:
	MOVOU (DI), X1
	MOVOU 16(DI), X2
	MOVOU 32(DI), X3
	MOVOU 48(DI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, (DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   sse2loop

sse2done:
	MASKTAIL
