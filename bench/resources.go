package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcUsage is the CPU time and peak resident memory of one process.
type ProcUsage struct {
	PID        int     `json:"pid"`
	CPUSeconds float64 `json:"cpu_seconds"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
}

// Resources is what the run cost: this process (the driver, and for the
// engine and replay targets the engine itself) and the target's processes.
type Resources struct {
	SelfCPUSeconds float64     `json:"self_cpu_seconds"` // during the run
	SelfPeakRSSMB  float64     `json:"self_peak_rss_mb"` // whole process life
	HeapInuseMB    float64     `json:"heap_inuse_mb"`    // at the end
	Target         []ProcUsage `json:"target_processes,omitempty"`
}

type resStart struct{ cpu float64 }

func rusageCPU(ru *syscall.Rusage) float64 {
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func startResources() resStart {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return resStart{cpu: rusageCPU(&ru)}
}

func (s resStart) finish(t Target) Resources {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := Resources{SelfCPUSeconds: rusageCPU(&ru) - s.cpu, SelfPeakRSSMB: float64(ru.Maxrss) / 1024, // Linux: KiB
		HeapInuseMB: float64(ms.HeapInuse) / (1 << 20)}
	if p, ok := t.(Processes); ok {
		for _, pid := range p.PIDs() {
			if u, err := ProcessUsage(pid); err == nil {
				r.Target = append(r.Target, u)
			}
		}
	}
	return r
}

// clkTck is USER_HZ, 100 on every Linux platform Go supports.
const clkTck = 100

// ProcessUsage reads a live process's CPU time (/proc/PID/stat utime+stime)
// and peak RSS (/proc/PID/status VmHWM).
func ProcessUsage(pid int) (ProcUsage, error) {
	u := ProcUsage{PID: pid}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return u, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
		f := strings.Fields(string(stat[i+1:]))
		// f[0] is field 3 (state); utime is field 14, stime 15.
		if len(f) > 13 {
			ut, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			u.CPUSeconds = (ut + st) / clkTck
		}
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				u.PeakRSSMB = kb / 1024
			}
		}
	}
	return u, nil
}

// Machine describes where a benchmark ran.
type Machine struct {
	NProc     int     `json:"nproc"`
	CPUModel  string  `json:"cpu_model"`
	MemoryGB  float64 `json:"memory_gb"`
	Kernel    string  `json:"kernel"`
	GoVersion string  `json:"go_version"`
	OS        string  `json:"os"`
	Arch      string  `json:"arch"`
	Hostname  string  `json:"hostname"`
	Time      string  `json:"time"`
}

// DescribeMachine reads /proc for the machine's description.
func DescribeMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Time: time.Now().UTC().Format(time.RFC3339)}
	m.Hostname, _ = os.Hostname()
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					kb, _ := strconv.ParseFloat(f[1], 64)
					m.MemoryGB = kb / (1 << 20)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}
