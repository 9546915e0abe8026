// quicgo-bench: the quic-go side of `bun run bench quic` (bench/quic.bench.ts).
// A reference peer built on github.com/quic-go/quic-go that speaks the same tiny
// benchmark protocol as the project's peer (bench/quic-peer.ts), so the bench can
// measure quic-go<->quic-go, project<->project (and, where TLS allows, mixed pairs)
// with one orchestrator.
//
// Protocol, per bidirectional stream opened by the client: a 9-byte header
// (op byte, then the byte count as uint64 big-endian), then:
//
//	'S' (source): the client sends count bytes and FIN; the server reads to FIN and
//	    answers with the 8-byte count it received, then FIN.
//	'K' (sink): the server sends count bytes and FIN; the client reads to FIN.
//	'E' (echo): the client sends count bytes and FIN; the server writes back what it
//	    reads as it reads it, then FIN.
//
// Handshake mode opens no stream: sequential connects (full TLS 1.3, no resumption)
// each closed at once, timing dial-to-handshake-complete.
//
// Processes: `quicgo-bench server` prints {"port":N} and serves until stdin closes;
// each stdin line "cpu" is answered with {"cpu_us":N} (its own getrusage user+system),
// so the orchestrator can charge the server's CPU to the measured interval.
// `quicgo-bench client -port N -mode source|sink|echo|handshake -bytes B -count K`
// prints one JSON line with wall time and its own CPU over the measured part.
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"
)

// ALPN of the project's transport, so a mixed pair can negotiate.
const alpn = "phantom/0"

const (
	opSource    = 'S'
	opSink      = 'K'
	opEcho      = 'E'
	headerBytes = 9
	chunkBytes  = 256 * 1024
)

func cpuMicros() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Sec*1e6 + int64(ru.Utime.Usec) + ru.Stime.Sec*1e6 + int64(ru.Stime.Usec)
}

// selfSignedEd25519 makes a fresh self-signed Ed25519 certificate: the project's peers
// present the same kind (docs/TRANSPORT.md), and TLS 1.3 signs with Ed25519 then.
func selfSignedEd25519() tls.Certificate {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "quicgo-bench"},
		NotBefore:             time.Unix(1735689600, 0), // 2025-01-01
		NotAfter:              time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	must(err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}
}

func must(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "quicgo-bench: %v\n", err)
		os.Exit(1)
	}
}

func emit(v any) {
	b, err := json.Marshal(v)
	must(err)
	os.Stdout.Write(append(b, '\n'))
}

func quicConfig() *quic.Config {
	// quic-go's defaults (windows auto-tune up to 6/15 MB, DPLPMTUD on) are what is compared.
	return &quic.Config{MaxIdleTimeout: 30 * time.Second, HandshakeIdleTimeout: 10 * time.Second}
}

func runServer() {
	cert := selfSignedEd25519()
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{alpn},
		// Mutual authentication, as the project's server always asks for it.
		ClientAuth: tls.RequireAnyClientCert,
		MinVersion: tls.VersionTLS13,
	}
	ln, err := quic.ListenAddr("127.0.0.1:0", tlsConf, quicConfig())
	must(err)
	emit(map[string]any{"port": ln.Addr().(*net.UDPAddr).Port, "pid": os.Getpid(), "gomaxprocs": runtime.GOMAXPROCS(0)})
	go func() {
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			go serveConn(conn)
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "cpu" {
			emit(map[string]any{"cpu_us": cpuMicros()})
		}
	}
	ln.Close()
}

func serveConn(conn *quic.Conn) {
	for {
		s, err := conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go serveStream(s)
	}
}

func serveStream(s *quic.Stream) {
	var hdr [headerBytes]byte
	if _, err := io.ReadFull(s, hdr[:]); err != nil {
		s.CancelRead(1)
		s.CancelWrite(1)
		return
	}
	count := binary.BigEndian.Uint64(hdr[1:])
	switch hdr[0] {
	case opSource:
		n, _ := io.Copy(io.Discard, s)
		var out [8]byte
		binary.BigEndian.PutUint64(out[:], uint64(n))
		s.Write(out[:])
		s.Close()
	case opSink:
		writeN(s, count)
		s.Close()
		io.Copy(io.Discard, s)
	case opEcho:
		buf := make([]byte, chunkBytes)
		io.CopyBuffer(s, s, buf)
		s.Close()
	default:
		s.CancelRead(2)
		s.CancelWrite(2)
	}
}

var payload = func() []byte {
	b := make([]byte, chunkBytes)
	for i := range b {
		b[i] = 3
	}
	return b
}()

func writeN(w io.Writer, n uint64) error {
	for n > 0 {
		k := uint64(len(payload))
		if n < k {
			k = n
		}
		if _, err := w.Write(payload[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

type result struct {
	Mode        string    `json:"mode"`
	Bytes       uint64    `json:"bytes"`
	Ms          float64   `json:"ms"`
	CPUUs       int64     `json:"cpu_us"`
	Handshakes  int       `json:"handshakes,omitempty"`
	HandshakeMs []float64 `json:"handshake_ms,omitempty"`
	Error       string    `json:"error,omitempty"`
}

func clientTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{selfSignedEd25519()},
		NextProtos:   []string{alpn},
		// The peer's certificate is self-signed (as the project's are): the TLS
		// handshake still checks its CertificateVerify signature, only the chain is skipped.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS13,
	}
}

func runClient(port int, mode string, bytes uint64, count int, timeout time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return result{Mode: mode, Error: err.Error()}
	}
	tr := &quic.Transport{Conn: udp}
	defer tr.Close()
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	tlsConf := clientTLS()
	if mode == "handshake" {
		res := result{Mode: mode}
		cpu0 := cpuMicros()
		t0 := time.Now()
		for i := 0; i < count; i++ {
			h0 := time.Now()
			conn, err := tr.Dial(ctx, addr, tlsConf, quicConfig())
			if err != nil {
				res.Error = err.Error()
				break
			}
			res.HandshakeMs = append(res.HandshakeMs, float64(time.Since(h0).Microseconds())/1000)
			conn.CloseWithError(0, "")
			res.Handshakes++
		}
		res.Ms = float64(time.Since(t0).Microseconds()) / 1000
		res.CPUUs = cpuMicros() - cpu0
		return res
	}
	conn, err := tr.Dial(ctx, addr, tlsConf, quicConfig())
	if err != nil {
		return result{Mode: mode, Error: err.Error()}
	}
	defer conn.CloseWithError(0, "")
	cpu0 := cpuMicros()
	t0 := time.Now()
	got, err := transfer(ctx, conn, mode, bytes)
	res := result{Mode: mode, Bytes: got, Ms: float64(time.Since(t0).Microseconds()) / 1000, CPUUs: cpuMicros() - cpu0}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// transfer runs one stream of the protocol and returns the bytes that crossed it
// (source: what the server acknowledged receiving; sink: what arrived; echo: what came back).
func transfer(ctx context.Context, conn *quic.Conn, mode string, n uint64) (uint64, error) {
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	// Reads and writes do not watch ctx: bound them by its deadline too, so a stalled
	// transfer ends with an error report instead of being killed.
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	var hdr [headerBytes]byte
	binary.BigEndian.PutUint64(hdr[1:], n)
	switch mode {
	case "source":
		hdr[0] = opSource
	case "sink":
		hdr[0] = opSink
	case "echo":
		hdr[0] = opEcho
	default:
		return 0, fmt.Errorf("unknown mode %q", mode)
	}
	if _, err := s.Write(hdr[:]); err != nil {
		return 0, err
	}
	switch mode {
	case "source":
		if err := writeN(s, n); err != nil {
			return 0, err
		}
		s.Close()
		var out [8]byte
		if _, err := io.ReadFull(s, out[:]); err != nil {
			return 0, err
		}
		return binary.BigEndian.Uint64(out[:]), nil
	case "sink":
		s.Close()
		got, err := io.Copy(io.Discard, s)
		return uint64(got), err
	default: // echo: write and read concurrently, as flow control needs both moving
		errc := make(chan error, 1)
		go func() {
			err := writeN(s, n)
			s.Close()
			errc <- err
		}()
		got, err := io.Copy(io.Discard, s)
		if werr := <-errc; werr != nil && err == nil {
			err = werr
		}
		return uint64(got), err
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: quicgo-bench server | client -port N -mode source|sink|echo|handshake [-bytes B] [-count K]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		runServer()
	case "client":
		fs := flag.NewFlagSet("client", flag.ExitOnError)
		port := fs.Int("port", 0, "server port on 127.0.0.1")
		mode := fs.String("mode", "source", "source|sink|echo|handshake")
		bytes := fs.Uint64("bytes", 1<<20, "bytes per transfer")
		count := fs.Int("count", 100, "handshakes")
		timeout := fs.Duration("timeout", 60*time.Second, "bound on the whole run")
		must(fs.Parse(os.Args[2:]))
		if *port == 0 {
			must(errors.New("-port is required"))
		}
		res := runClient(*port, *mode, *bytes, *count, *timeout)
		if res.HandshakeMs != nil {
			sort.Float64s(res.HandshakeMs)
		}
		emit(res)
		if res.Error != "" {
			os.Exit(1)
		}
	default:
		must(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}
