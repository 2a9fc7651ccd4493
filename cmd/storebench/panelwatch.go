package main

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"syscall"
)

// panelWatcher reads many status-panel streams with a few goroutines, each waiting on an
// epoll set of its own: one read per stream and message, and no goroutine to wake per stream.
type panelWatcher struct {
	mu     sync.Mutex
	loops  []*epollLoop
	next   int
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
}

type epollLoop struct {
	fd     int
	mu     sync.Mutex
	states map[int32]*panelState
}

func newPanelWatcher(ctx context.Context) (*panelWatcher, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &panelWatcher{cancel: cancel}
	for range max(1, runtime.GOMAXPROCS(0)) {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			w.close()
			return nil, err
		}
		l := &epollLoop{fd: fd, states: make(map[int32]*panelState)}
		w.loops = append(w.loops, l)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			l.run(ctx)
		}()
	}
	return w, nil
}

// watch reads c from now on, feeding st; c stays open (the caller closes it).
func (w *panelWatcher) watch(c net.Conn, st *panelState) error {
	if len(st.pending) > 0 {
		st.read(nil) // a message that came with the first one
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return errors.New("not a socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	w.mu.Lock()
	l := w.loops[w.next%len(w.loops)]
	w.next++
	w.mu.Unlock()
	var cerr error
	err = raw.Control(func(fd uintptr) {
		l.mu.Lock()
		l.states[int32(fd)] = st
		l.mu.Unlock()
		cerr = syscall.EpollCtl(l.fd, syscall.EPOLL_CTL_ADD, int(fd), &syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)})
	})
	return errors.Join(err, cerr)
}

// run reads the loop's sockets as they become readable, until ctx ends.
func (l *epollLoop) run(ctx context.Context) {
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		n, err := syscall.EpollWait(l.fd, events, 50)
		if err != nil && err != syscall.EINTR {
			return
		}
		for _, ev := range events[:max(n, 0)] {
			l.mu.Lock()
			st := l.states[ev.Fd]
			l.mu.Unlock()
			if st == nil {
				continue
			}
			k, err := syscall.Read(int(ev.Fd), buf)
			if k > 0 {
				st.read(buf[:k])
				continue
			}
			if err == syscall.EAGAIN || err == syscall.EINTR {
				continue
			}
			// The stream ended: stop watching it (its connection is closed by the caller).
			syscall.EpollCtl(l.fd, syscall.EPOLL_CTL_DEL, int(ev.Fd), nil)
			l.mu.Lock()
			delete(l.states, ev.Fd)
			l.mu.Unlock()
		}
	}
}

// close stops the loops and waits for them.
func (w *panelWatcher) close() {
	w.closed.Do(func() {
		w.cancel()
		w.wg.Wait()
		for _, l := range w.loops {
			syscall.Close(l.fd)
		}
	})
}
